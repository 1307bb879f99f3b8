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

/// A borrowed run of bytes: a pointer and a length. The argument type
/// `bytes` of a typed signature crosses as one of these.
///
/// The caller owns the bytes; they are readable for the duration of the
/// call that receives the view, and the callee copies what it keeps. An
/// empty view may have a null pointer.
///
/// ```
/// use polyplug_abi::BytesView;
///
/// let data = [1u8, 2, 3];
/// let view = BytesView::of(&data);
/// assert_eq!((view.ptr, view.len), (data.as_ptr(), 3));
/// assert!(BytesView::EMPTY.ptr.is_null());
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BytesView {
    /// First byte, or null when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl BytesView {
    /// The empty view.
    ///
    /// ```
    /// assert_eq!(polyplug_abi::BytesView::EMPTY.len, 0);
    /// ```
    pub const EMPTY: BytesView = BytesView {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// A view of `bytes`, valid while they are.
    ///
    /// ```
    /// let view = polyplug_abi::BytesView::of(b"abc");
    /// assert_eq!(view.len, 3);
    /// ```
    pub const fn of(bytes: &[u8]) -> BytesView {
        BytesView {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// Bytes returned by a typed function: the result types `string` (UTF-8)
/// and `buf` (any bytes) cross as one of these, and the caller owns them.
///
/// The callee allocates `ptr` with the host table's `alloc(len, 1)`, or
/// returns [`OwnedBuf::EMPTY`] (null, 0) for no bytes; the caller frees a
/// non-null `ptr` exactly once with the host table's `free(ptr, len, 1)`.
/// Host and plugins allocate from the one host allocator (`SAFETY.md`
/// \[R9\]), so whoever receives the buffer can free it, whichever library
/// made it.
///
/// ```
/// use polyplug_abi::OwnedBuf;
///
/// let none = OwnedBuf::EMPTY;
/// assert!(none.ptr.is_null() && none.len == 0); // nothing to free
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnedBuf {
    /// First byte, allocated with the host's `alloc(len, 1)`; null when
    /// `len` is 0.
    pub ptr: *mut u8,
    /// Length in bytes.
    pub len: usize,
}

impl OwnedBuf {
    /// No bytes: nothing to free.
    ///
    /// ```
    /// assert_eq!(polyplug_abi::OwnedBuf::EMPTY.len, 0);
    /// ```
    pub const EMPTY: OwnedBuf = OwnedBuf {
        ptr: core::ptr::null_mut(),
        len: 0,
    };
}
