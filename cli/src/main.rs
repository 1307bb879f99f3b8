//! `polyplug`: the command-line tool of the polyplug plugin runtime.
//!
//! # The problem
//!
//! A newcomer wants to see hot reload work before reading any code, and a
//! plugin author wants to know, before a bundle ships, that it loads, that
//! it registers what its manifest declares, and that it survives being
//! reloaded while other threads call it. Each of those is one command:
//!
//! | command | what it does |
//! |---|---|
//! | `demo` | loads the Rust, C, C++, Rust→wasm, Lua, JavaScript and Python example plugins and hot-reloads them under dispatcher threads, with a live progress line and a summary |
//! | `validate <bundle>` | checks manifest, library, wasm module or Lua, JavaScript or Python script, digest, ABI or export names, and registrations, with compiler-style errors |
//! | `inspect <bundle or dir>` | lists contracts, functions, dependencies and the load order |
//! | `stress <bundle> --reload-with <bundle>` | reloads a bundle K times while N threads call every typed function it can call |
//! | `new <name> --lang rust\|c\|cpp\|wasm\|lua\|js\|python` | scaffolds a bundle that builds and validates as it stands |
//! | `watch <dir>` | loads a bundle or a directory of bundles and reloads each when its files change, printing every reload |
//! | `keygen`, `sign <bundle> --key`, `verify <bundle> --trust` | signed bundles: a key pair, a bundle's signature over every file, its check |
//!
//! Every command exits 0 on success and 1 on any failure.
#![deny(unsafe_code)]

mod caller;
mod demo;
mod diagnostic;
mod diff;
mod error;
mod generate;
mod inspect;
mod report;
mod scaffold;
mod scratch;
mod sign;
mod stress;
mod validate;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::CliError;

/// polyplug: load native, WebAssembly, Lua, JavaScript and Python
/// plugins, call them through one typed call path, hot-reload them while
/// other threads keep calling.
#[derive(Debug, Parser)]
#[command(name = "polyplug", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    polyplug demo --seconds 5\n  \
    polyplug validate plugins/my-plugin\n  \
    polyplug new my-plugin --lang c")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the Rust, C, C++, Rust→wasm, Lua, JavaScript and Python example
    /// plugins and hot-reload them, v1 and v2 in turn, while dispatcher
    /// threads call them.
    #[command(after_help = "Examples:\n  \
        polyplug demo                  # 10 seconds, one dispatcher per core\n  \
        polyplug demo --reloads 500    # stop after 500 reloads\n  \
        polyplug demo --seconds 3 --threads 4")]
    Demo(demo::DemoArgs),

    /// Check a bundle before it ships: manifest, library, wasm module or
    /// Lua, JavaScript or Python script, digest, ABI version and entry
    /// point or export names, and the contracts it registers.
    #[command(after_help = "Examples:\n  \
        polyplug validate plugins/my-plugin\n  \
        polyplug validate plugins/consumer --with plugins/provider")]
    Validate {
        /// The bundle directory (holding manifest.toml).
        bundle: PathBuf,
        /// Load this bundle first, to provide a contract the bundle
        /// requires. May be repeated.
        #[arg(long = "with", value_name = "BUNDLE")]
        with: Vec<PathBuf>,
        /// The previous definition of a contract the bundle ships a
        /// definition of: refuse a version that claims a compatibility its
        /// definition lacks. May be repeated.
        #[arg(long = "previous", value_name = "DEFINITION")]
        previous: Vec<PathBuf>,
    },

    /// List the contracts, versions, functions and dependencies of a bundle,
    /// or of every bundle in a directory with their load order.
    #[command(after_help = "Examples:\n  \
        polyplug inspect plugins/my-plugin\n  \
        polyplug inspect plugins/")]
    Inspect {
        /// A bundle directory, or a directory of bundle directories.
        path: PathBuf,
    },

    /// Reload a bundle again and again, alternating with another version,
    /// while threads call every typed function it can call safely.
    #[command(after_help = "Example:\n  \
        polyplug stress build/v1/my-plugin --reload-with build/v2/my-plugin --threads 4 --reloads 1000")]
    Stress(stress::StressArgs),

    /// Generate bindings from a contract definition: a Rust host's typed
    /// wrapper, a Rust plugin's trait, C and C++ headers, or a plugin stub
    /// in Lua, JavaScript, Python, or C for wasm32.
    #[command(after_help = "Examples:\n  \
        polyplug gen examples/contracts/counter.toml --lang rust-host\n  \
        polyplug gen counter.toml --lang c --out counter.h")]
    Gen {
        /// The definition file (TOML).
        definition: PathBuf,
        /// The language to generate.
        #[arg(long, value_enum)]
        lang: generate::GenLang,
        /// Write here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },

    /// Compare two definitions of a contract: what changed, and whether the
    /// new version number allows it (a minor bump may add functions, never
    /// change or remove one). Exit 1 when it does not.
    #[command(after_help = "Example:\n  \
        polyplug diff counter-1.0.toml counter-1.1.toml")]
    Diff {
        /// The old definition file.
        old: PathBuf,
        /// The new definition file.
        new: PathBuf,
    },

    /// Create a plugin bundle that builds and validates as it stands.
    #[command(after_help = "Examples:\n  \
        polyplug new my-plugin --lang rust\n  \
        polyplug new my-plugin --lang c --dir plugins\n  \
        polyplug new my-plugin --lang wasm\n  \
        polyplug new my-plugin --lang lua\n  \
        polyplug new my-plugin --lang python")]
    New {
        /// The bundle name: a lowercase letter, then [a-z0-9_-].
        name: String,
        /// The plugin's language.
        #[arg(long, value_enum)]
        lang: Lang,
        /// Where to create the bundle directory `<DIR>/<NAME>`.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The polyplug-guest crate a Rust or wasm plugin depends on (by path).
        #[arg(long, value_name = "PATH", default_value = scaffold::GUEST_PATH)]
        guest_path: PathBuf,
    },

    /// Load a bundle, or every bundle in a directory, and reload each when
    /// its manifest or its files change; print every reload and failure.
    #[command(after_help = "Examples:\n  \
        polyplug watch plugins/                 # until Ctrl-C\n  \
        polyplug watch plugins/ --seconds 60 --quiet-ms 500")]
    Watch(watch::WatchArgs),
    /// Make a key pair for signing bundles (minisign's formats).
    #[command(after_help = "Examples:\n  \
        polyplug keygen                          # ./polyplug.key, ./polyplug.pub\n  \
        polyplug keygen --dir keys --name release")]
    Keygen(sign::KeygenArgs),

    /// Sign a bundle: a SHA-256 list of every file in it, and its Ed25519
    /// signature (minisign's prehashed format).
    #[command(after_help = "Example:\n  \
        polyplug sign plugins/my-plugin --key polyplug.key")]
    Sign(sign::SignArgs),

    /// Check a bundle's signature as a runtime that requires signed
    /// bundles does: a trusted key, and every file as signed.
    #[command(after_help = "Examples:\n  \
        polyplug verify plugins/my-plugin --trust polyplug.pub\n  \
        polyplug verify plugins/my-plugin --trust RWQ...   # the key's base64 line")]
    Verify(sign::VerifyArgs),
}

/// A language `polyplug new` can scaffold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    /// A cargo cdylib using the polyplug-guest SDK.
    Rust,
    /// A C source with the generated header and a build script for gcc.
    C,
    /// A C++ source with the generated header and a build script for g++.
    Cpp,
    /// A cargo cdylib using the polyplug-guest SDK, built for
    /// wasm32-unknown-unknown: a module for the wasm loader.
    Wasm,
    /// A Lua script for the Lua loader; nothing to build.
    Lua,
    /// A JavaScript ES module for the JavaScript loader; nothing to build.
    Js,
    /// A Python script for the Python loader; nothing to build.
    Python,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Validate {
            bundle,
            with,
            previous,
        } => validate::run(&bundle, &with, &previous),
        Command::Inspect { path } => inspect::run(&path),
        Command::Stress(args) => stress::run(&args),
        Command::Diff { old, new } => diff::run(&old, &new),
        Command::Gen {
            definition,
            lang,
            out,
        } => generate::run(&definition, lang, out.as_deref()),
        Command::New {
            name,
            lang,
            dir,
            guest_path,
        } => scaffold::run(&name, lang, &dir, &guest_path),
        Command::Watch(args) => watch::run(&args),
        Command::Keygen(args) => sign::keygen(&args),
        Command::Sign(args) => sign::sign(&args),
        Command::Verify(args) => sign::verify(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Reported) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
