//! Borrowed UTF-8 string views.

/// A borrowed string: a pointer and a length in bytes, not NUL-terminated.
///
/// Who owns the bytes and how long they live is stated wherever a view
/// appears. The receiver checks that the bytes are UTF-8 before it uses them
/// as text; an empty view may have a null pointer.
///
/// ```
/// use polyplug_abi::StrView;
///
/// const NAME: StrView = StrView::from_static("test.add");
/// assert_eq!(NAME.len, 8);
/// assert!(StrView::EMPTY.ptr.is_null());
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrView {
    /// First byte, or null when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl StrView {
    /// The empty view.
    ///
    /// ```
    /// use polyplug_abi::StrView;
    ///
    /// assert_eq!(StrView::EMPTY.len, 0);
    /// assert_eq!(StrView::from_static(""), StrView { ptr: "".as_ptr(), len: 0 });
    /// ```
    pub const EMPTY: StrView = StrView {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// A view of a string that lives for the whole program (or, in a plugin,
    /// for as long as its library stays loaded).
    ///
    /// ```
    /// use polyplug_abi::StrView;
    ///
    /// let text = "test.add";
    /// let view = StrView::from_static(text);
    /// assert_eq!((view.ptr, view.len), (text.as_ptr(), 8)); // no copy, no NUL
    /// ```
    pub const fn from_static(text: &'static str) -> StrView {
        StrView {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }
}
