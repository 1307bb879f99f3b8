# Written by `polyplug gen text.toml --lang python` from contract demo.text 1.0.0.
# A stub to fill in: every function raises until it is written. Name it in a bundle's
# [library] with `loader = "python"`, and declare the contract under [[provides]].
#
# Text and bytes in, borrowed for the call; an owned string or a number out.

import polyplug

# `text` upper-cased: all of Unicode in Rust, ASCII a-z only in C.
@polyplug.export("demo.text", "1.0.0", "string(str)")
def upper(text):
    raise NotImplementedError("demo.text upper: not written yet")

# The wrapping sum of the bytes as u64.
@polyplug.export("demo.text", "1.0.0", "u64(bytes)")
def checksum(bytes):
    raise NotImplementedError("demo.text checksum: not written yet")
