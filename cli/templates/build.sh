#!/bin/sh
# Builds lib{{stem}}.so, the library manifest.toml names, next to this
# script. Set {{compiler_var}} to use another compiler.
set -eu
cd "$(dirname "$0")"
${{{compiler_var}}:-{{compiler}}} -shared -fPIC -O2 -std={{std}} -Wall -Wextra -Werror -I. \
    -o lib{{stem}}.so {{source}}
