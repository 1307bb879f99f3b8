//! The bundle list: a snapshot of [`engine::BundleInfo`] for each
//! loaded bundle, laid out for C, owned by one object.

use std::ffi::{CString, c_char};

use polyplug_abi::Version;

use crate::error::guarded;
use crate::object::{Tag, Tagged, c_string, hand_out, live, put, take_back};
use crate::runtime::bundle_raw;
use crate::runtime::{polyplug_runtime, runtime};
use crate::status::{Failure, polyplug_status};

/// A contract name and version: provided, or required at least.
///
/// ```c
/// for (size_t j = 0; j < b->require_count; j++)
///     printf("needs %s >= %u.%u\n", b->requires[j].name, b->requires[j].version.major, b->requires[j].version.minor);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct polyplug_contract_version {
    /// The contract's name, NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Its length in bytes, without the NUL.
    pub name_len: usize,
    /// The version provided, or the minimum required.
    pub version: Version,
}

/// One loaded bundle. Every pointer points into the list it came from and
/// is valid until that list is destroyed.
///
/// ```c
/// const polyplug_bundle_info *b = &bundles[0];
/// printf("#%llu %s from %s\n", (unsigned long long)b->id, b->name, b->dir);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct polyplug_bundle_info {
    /// Its id.
    pub id: u64,
    /// Its name (from its manifest), NUL-terminated UTF-8.
    pub name: *const c_char,
    /// The name's length, without the NUL.
    pub name_len: usize,
    /// Its version.
    pub version: Version,
    /// The directory it was (re)loaded from, NUL-terminated.
    pub dir: *const c_char,
    /// The directory's length, without the NUL.
    pub dir_len: usize,
    /// The contracts it provides.
    pub contracts: *const polyplug_contract_version,
    /// How many.
    pub contract_count: usize,
    /// The contracts it requires, with their minimum versions.
    pub requires: *const polyplug_contract_version,
    /// How many.
    pub require_count: usize,
}

/// A snapshot of the loaded bundles. Opaque; made by `polyplug_bundles`,
/// destroyed by `polyplug_bundle_list_destroy`. Read-only, so any thread
/// may read it.
///
/// ```c
/// polyplug_bundle_list *list;
/// polyplug_bundles(runtime, &list);
/// // ... polyplug_bundle_list_items(list, &bundles, &count) ...
/// polyplug_bundle_list_destroy(list);
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct polyplug_bundle_list {
    tag: Tag,
    infos: Vec<polyplug_bundle_info>,
    /// What the infos point into; never changed after the list is made.
    _text: Vec<CString>,
    _lists: Vec<Vec<polyplug_contract_version>>,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_bundle_list {
    const TAG: u64 = 0x7070_5f62_6e64_6c73; // "pp_bndls"
    const KIND: &'static str = "polyplug_bundle_list";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl polyplug_bundle_list {
    /// Keeps `text` and returns its address and length.
    fn keep(&mut self, text: &str) -> (*const c_char, usize) {
        let text = c_string(text);
        let view = (text.as_ptr(), text.as_bytes().len());
        // Moving a CString does not move its bytes.
        self._text.push(text);
        view
    }

    /// Keeps `items` and returns their address and number.
    fn keep_list(
        &mut self,
        items: &[(String, Version)],
    ) -> (*const polyplug_contract_version, usize) {
        let list: Vec<polyplug_contract_version> = items
            .iter()
            .map(|(name, version)| {
                let (name, name_len) = self.keep(name);
                polyplug_contract_version {
                    name,
                    name_len,
                    version: *version,
                }
            })
            .collect();
        let view = (list.as_ptr(), list.len());
        // Moving a Vec does not move its elements.
        self._lists.push(list);
        view
    }
}

/// Writes a snapshot of the loaded bundles, by id, to `*out`.
///
/// Ownership: the caller owns the list and destroys it with
/// `polyplug_bundle_list_destroy`; it does not change when the runtime
/// does, and may outlive it.
///
/// # Safety
///
/// `runtime` NULL or from `polyplug_runtime_new`; `out` writable (\[C1\],
/// \[C4\]).
///
/// ```c
/// polyplug_bundle_list *list;
/// const polyplug_bundle_info *bundles;
/// size_t count;
/// polyplug_bundles(runtime, &list);
/// polyplug_bundle_list_items(list, &bundles, &count);
/// for (size_t i = 0; i < count; i++) printf("%s %u\n", bundles[i].name, bundles[i].version.major);
/// polyplug_bundle_list_destroy(list);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_bundles(
    runtime: *const polyplug_runtime,
    out: *mut *mut polyplug_bundle_list,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let mut list = polyplug_bundle_list {
            tag: Tag::new(polyplug_bundle_list::TAG),
            infos: Vec::new(),
            _text: Vec::new(),
            _lists: Vec::new(),
        };
        for bundle in rt.runtime.bundles() {
            let (name, name_len) = list.keep(&bundle.name);
            let (dir, dir_len) = list.keep(&bundle.dir.to_string_lossy());
            let (contracts, contract_count) = list.keep_list(&bundle.contracts);
            let (requires, require_count) = list.keep_list(&bundle.requires);
            list.infos.push(polyplug_bundle_info {
                id: bundle_raw(bundle.id),
                name,
                name_len,
                version: bundle.version,
                dir,
                dir_len,
                contracts,
                contract_count,
                requires,
                require_count,
            });
        }
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", hand_out(list)) }
    })
}

/// Writes the address of the list's first bundle to `*items` and their
/// number to `*count`. Valid until the list is destroyed.
///
/// # Safety
///
/// `list` NULL or from `polyplug_bundles`; `items` and `count` writable.
///
/// ```c
/// polyplug_bundle_list_items(list, &bundles, &count);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_bundle_list_items(
    list: *const polyplug_bundle_list,
    items: *mut *const polyplug_bundle_info,
    count: *mut usize,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let l = unsafe { live::<polyplug_bundle_list>(list, "list") }?;
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        // SAFETY: [C4] as documented.
        unsafe { put(items, "items", l.infos.as_ptr()) }?;
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(count, "count", l.infos.len()) }
    })
}

/// Destroys a bundle list.
///
/// # Safety
///
/// `list` NULL or from `polyplug_bundles` (\[C1\]).
///
/// ```c
/// polyplug_bundle_list_destroy(list);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_bundle_list_destroy(
    list: *mut polyplug_bundle_list,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        unsafe { live::<polyplug_bundle_list>(list, "list") }?;
        // SAFETY: [C1] live (checked), not used after this.
        drop(unsafe { take_back(list) });
        Ok(())
    })
}
