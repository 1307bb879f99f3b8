//! Errors: what plugin code returns, and how it crosses the boundary as an
//! [`AbiError`].

use std::borrow::Cow;
use std::fmt;

#[cfg(not(target_family = "wasm"))]
use polyplug_abi::{AbiError, ERROR_FLAG_HOST_ALLOCATED, StrView};
use polyplug_abi::{ERR_INTERNAL, ERR_PLUGIN, OK};

#[cfg(not(target_family = "wasm"))]
use crate::host::Host;

/// The message sent instead of an owned one when no host allocator is
/// available to carry it.
#[cfg(not(target_family = "wasm"))]
pub(crate) const LOST_MESSAGE: &str =
    "polyplug-guest: the error message was lost (no host allocator to carry it)";

/// An error returned by plugin code: a `u32` code and a message.
///
/// Codes are the ABI's `ERR_*` constants, or plugin codes at or above
/// [`ERR_PLUGIN`] ([`Error::plugin`]). At the boundary the SDK writes the
/// error into the caller's [`AbiError`]: the message is copied into memory
/// from the host's `alloc` (flag [`ERROR_FLAG_HOST_ALLOCATED`]) so that it
/// outlives the library; without a host allocator a static message is sent
/// as is and an owned one is replaced by a fixed text. A code of
/// [`OK`] is sent as [`ERR_INTERNAL`], since an error must not read as
/// success.
///
/// ```
/// use polyplug_guest::Error;
///
/// let err = Error::plugin(1, "test.add failed on purpose");
/// assert_eq!(err.code(), 1001);
/// assert_eq!(err.message(), "test.add failed on purpose");
/// assert_eq!(err.to_string(), "test.add failed on purpose (code 1001)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: u32,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with any code.
    ///
    /// ```
    /// use polyplug_guest::Error;
    /// use polyplug_guest::abi::ERR_BAD_ARGUMENT;
    ///
    /// let err = Error::new(ERR_BAD_ARGUMENT, format!("bad value {}", 7));
    /// assert_eq!(err.code(), ERR_BAD_ARGUMENT);
    /// ```
    pub fn new(code: u32, message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    /// An error with a static message; usable in constants.
    ///
    /// ```
    /// use polyplug_guest::Error;
    ///
    /// const REFUSED: Error = Error::from_static(1007, "refused");
    /// assert_eq!(REFUSED.message(), "refused");
    /// ```
    pub const fn from_static(code: u32, message: &'static str) -> Error {
        Error {
            code,
            message: Cow::Borrowed(message),
        }
    }

    /// A plugin-defined error: code `ERR_PLUGIN + offset` (saturating).
    ///
    /// ```
    /// use polyplug_guest::Error;
    ///
    /// assert_eq!(Error::plugin(7, "no").code(), 1007);
    /// ```
    pub fn plugin(offset: u32, message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ERR_PLUGIN.saturating_add(offset), message)
    }

    /// The code.
    ///
    /// ```
    /// assert_eq!(polyplug_guest::Error::new(5, "dup").code(), 5);
    /// ```
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The message.
    ///
    /// ```
    /// assert_eq!(polyplug_guest::Error::new(5, "dup").message(), "dup");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The code sent across the boundary: never [`OK`].
    pub(crate) fn abi_code(&self) -> u32 {
        if self.code == OK {
            ERR_INTERNAL
        } else {
            self.code
        }
    }

    #[cfg(not(target_family = "wasm"))]
    /// The `AbiError` for this error: the message in host memory when
    /// `host` can allocate it (flag [`ERROR_FLAG_HOST_ALLOCATED`]), else
    /// static text.
    pub(crate) fn to_abi(&self, host: Option<&Host>) -> AbiError {
        let code = self.abi_code();
        if self.message.is_empty() {
            return AbiError {
                code,
                flags: 0,
                message: StrView::EMPTY,
            };
        }
        if let Some(view) = host.and_then(|host| host.alloc_text(&self.message)) {
            return AbiError {
                code,
                flags: ERROR_FLAG_HOST_ALLOCATED,
                message: view,
            };
        }
        let text: &'static str = match self.message {
            Cow::Borrowed(text) => text,
            Cow::Owned(_) => LOST_MESSAGE,
        };
        AbiError::new(code, text)
    }

    #[cfg(not(target_family = "wasm"))]
    /// Writes this error to `*err` (when `err` is not null) and returns the
    /// code to return alongside it.
    ///
    /// # Safety
    ///
    /// \[G2\]: `err` is null or points to an `AbiError` that is valid for
    /// writes, as the caller of the exported function promised.
    pub(crate) unsafe fn write_to(&self, err: *mut AbiError) -> u32 {
        // SAFETY: [G2] forwarded: `err` is null or writable.
        unsafe { self.write_with(Host::current().as_ref(), err) }
    }

    #[cfg(not(target_family = "wasm"))]
    /// [`Error::write_to`] with an explicit host table (none while the
    /// table is not yet checked).
    ///
    /// # Safety
    ///
    /// As for [`Error::write_to`].
    pub(crate) unsafe fn write_with(&self, host: Option<&Host>, err: *mut AbiError) -> u32 {
        let abi = self.to_abi(host);
        if !err.is_null() {
            // SAFETY: [G2] `err` is non-null (checked above) and writable by
            // this function's contract; `AbiError` is `Copy`, nothing drops.
            unsafe { err.write(abi) };
        } else if abi.flags & ERROR_FLAG_HOST_ALLOCATED != 0 {
            // Nobody receives the message: give it back.
            if let Some(host) = host {
                // SAFETY: [G4] `abi.message` was allocated just now by
                // `host.alloc_text` and is freed once, here.
                unsafe { host.free_text(abi.message) };
            }
        }
        abi.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(view: StrView) -> String {
        // SAFETY: [G4] the views under test point at static strings.
        unsafe { crate::host::read_view(view) }
            .unwrap()
            .into_owned()
    }

    #[test]
    fn ok_code_is_never_sent() {
        let err = Error::new(OK, "oops");
        assert_eq!(err.abi_code(), ERR_INTERNAL);
        assert_eq!(err.to_abi(None).code, ERR_INTERNAL);
    }

    #[test]
    fn without_host_static_messages_pass_and_owned_ones_are_replaced() {
        let abi = Error::from_static(1001, "static text").to_abi(None);
        assert_eq!(abi.code, 1001);
        assert_eq!(abi.flags, 0);
        assert_eq!(text(abi.message), "static text");

        let abi = Error::new(1002, String::from("owned text")).to_abi(None);
        assert_eq!(abi.flags, 0);
        assert_eq!(text(abi.message), LOST_MESSAGE);
    }

    #[test]
    fn empty_message_is_empty_view() {
        let abi = Error::new(3, "").to_abi(None);
        assert_eq!(abi.message, StrView::EMPTY);
        assert_eq!(abi.flags, 0);
    }
}
