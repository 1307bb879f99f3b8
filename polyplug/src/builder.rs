//! [`RuntimeBuilder`]: a runtime with loaders for kinds beyond native.

use polyplug_loader::Trust;

use crate::Runtime;
use crate::loader::Loader;

/// Builds a [`Runtime`] that loads bundles of other kinds than native
/// through the [`Loader`]s it is given. [`Runtime::new`] is
/// `Runtime::builder().build()`: native bundles only.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
///
/// let runtime = Runtime::builder().build()?; // what Runtime::new() makes
/// assert!(runtime.bundles().is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Default)]
pub struct RuntimeBuilder {
    loaders: Vec<Box<dyn Loader>>,
    trust: Trust,
    definitions: Vec<polyplug_contract::Definition>,
}

impl Runtime {
    /// A builder, to add loaders for other kinds than native.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let builder = polyplug::Runtime::builder();
    /// let runtime = builder.build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }
}

impl RuntimeBuilder {
    /// Adds `loader` for the bundles whose manifest names its
    /// [`kind`](Loader::kind). A later loader of the same kind replaces an
    /// earlier one.
    ///
    /// See [`crate::loader`] for a loader.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::loader::{CodeError, CodeSource, LoadedCode, Loader, Registrar};
    /// # struct Lua;
    /// # impl Loader for Lua {
    /// #     fn kind(&self) -> &'static str { "lua" }
    /// #     fn load(&self, c: &CodeSource<'_>, _: &mut Registrar<'_>) -> Result<Box<dyn LoadedCode>, CodeError> {
    /// #         Err(CodeError::new(c.path(), "library", "no Lua here"))
    /// #     }
    /// # }
    /// let runtime = polyplug::Runtime::builder().loader(Lua).build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn loader(mut self, loader: impl Loader) -> RuntimeBuilder {
        let kind = loader.kind();
        self.loaders.retain(|l| l.kind() != kind);
        self.loaders.push(Box::new(loader));
        self
    }

    /// The trust policy: [`Trust::Off`] (the default) loads unsigned
    /// bundles; [`Trust::Required`] loads and reloads only bundles signed
    /// by one of its keys, over every file of the bundle
    /// (`docs/signed-bundles.md`). The signature is checked before any
    /// library is opened or any plugin code runs, over the bytes that then
    /// load; a bundle that fails is a [`LoadError::Bundle`](crate::LoadError::Bundle)
    /// holding a [`BundleError::Seal`](polyplug_loader::BundleError::Seal),
    /// and the runtime is unchanged.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{PublicKey, Runtime, SecretKey, Trust};
    ///
    /// let public = SecretKey::from_seed([7; 32]).public().to_text(); // what `polyplug keygen` writes
    /// let key = PublicKey::parse(&public)?;
    /// let runtime = Runtime::builder().trust(Trust::required([key])).build()?;
    /// # let _ = runtime;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn trust(mut self, trust: Trust) -> RuntimeBuilder {
        self.trust = trust;
        self
    }

    /// Requires every contract a bundle registers under `definition`'s
    /// name and major to match the host's copy: a version that satisfies
    /// it, and every function it defines registered with its signature (a
    /// later minor may add functions). A mismatch refuses the load or
    /// reload with [`LoadError::ContractMismatch`](crate::LoadError::ContractMismatch).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let definition = polyplug_contract::Definition::parse(
    ///     "[contract]\nname = \"test.add\"\nversion = \"1.0.0\"\n[[function]]\nname = \"inc\"\nsig = \"u64(u64)\"\n",
    ///     "host/test_add.toml",
    /// )?;
    /// let runtime = polyplug::Runtime::builder().definition(definition).build()?;
    /// let err = runtime.load_bundle(polyplug_fixtures::bundle("test-add")).unwrap_err();
    /// assert!(err.to_string().contains("says u64(u64), the plugin registered u32(u32)"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn definition(mut self, definition: polyplug_contract::Definition) -> RuntimeBuilder {
        self.definitions.push(definition);
        self
    }

    /// The runtime.
    ///
    /// # Errors
    ///
    /// When its private directory for library copies cannot be made.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let runtime = polyplug::Runtime::builder().build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        Runtime::with_loaders(self.loaders, self.trust, self.definitions)
    }
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field(
                "loaders",
                &self.loaders.iter().map(|l| l.kind()).collect::<Vec<_>>(),
            )
            .field("trust", &self.trust)
            .finish()
    }
}
