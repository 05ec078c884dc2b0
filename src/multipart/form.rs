//! A whole multipart form (Go's `multipart.Reader.ReadForm`): field values in memory, and
//! files in memory while they fit `max_memory`, else in a temporary file each.
//!
//! A temporary file is unlinked as soon as it is created: only its open handle, held by
//! the form, keeps it, so it goes when the form goes (with its request), whatever happens
//! to the process.

use std::fs::{File, OpenOptions};
use std::io::{self, Cursor, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::parser::{Multipart, MultipartError};

/// Go's allowance, beyond `max_memory`, for field values and per-part overhead: 10 MB.
const VALUE_ALLOWANCE: u64 = 10 << 20;

/// Most parts a form may have (Go's 1,000).
const MAX_PARTS: usize = 1000;

/// What each field counts for besides its bytes (Go's `mapEntryOverhead`).
const ENTRY_OVERHEAD: u64 = 200;

/// A parsed multipart form (Go's `multipart.Form`): its field values and files, each in
/// the order they came.
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// Field values by name, in order.
    pub values: Vec<(String, String)>,
    /// Files by field name, in order.
    pub files: Vec<(String, FileHeader)>,
}

impl MultipartForm {
    /// The first file uploaded under `name`.
    pub fn file(&self, name: &str) -> Option<&FileHeader> {
        let (_, file) = self.files.iter().find(|(n, _)| n == name)?;
        Some(file)
    }
}

/// One uploaded file of a multipart form (Go's `multipart.FileHeader`).
#[derive(Debug)]
pub struct FileHeader {
    /// The file's name as the client gave it, without directories.
    pub filename: String,
    /// The part's header fields.
    pub headers: Vec<(String, String)>,
    /// Its size in bytes.
    pub size: u64,
    content: Content,
}

#[derive(Debug)]
enum Content {
    Memory(Vec<u8>),
    /// An unlinked temporary file.
    Disk(Arc<File>),
}

impl FileHeader {
    /// Reads the file's bytes from the start (Go's `FileHeader.Open`).
    pub fn open(&self) -> io::Result<FileReader<'_>> {
        Ok(FileReader {
            content: &self.content,
            pos: 0,
            size: self.size,
        })
    }

    /// The file is held in memory (it fitted `max_memory`), not on disk.
    pub fn in_memory(&self) -> bool {
        matches!(self.content, Content::Memory(_))
    }
}

/// The bytes of an uploaded file ([`FileHeader::open`]).
#[derive(Debug)]
pub struct FileReader<'a> {
    content: &'a Content,
    pos: u64,
    size: u64,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.size - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        let n = match self.content {
            Content::Memory(bytes) => {
                let mut cursor = Cursor::new(&bytes[..]);
                cursor.set_position(self.pos);
                cursor.read(&mut buf[..want])?
            }
            Content::Disk(file) => file.read_at(&mut buf[..want], self.pos)?,
        };
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads every part of `multipart` into a form (Go's `ReadForm`): values and files up to
/// `max_memory` bytes of files in memory, the rest of the files on disk, and the values
/// within `max_memory` plus 10 MB.
pub(crate) fn read_form<R: Read>(
    multipart: &mut Multipart<R>,
    max_memory: u64,
) -> Result<MultipartForm, MultipartError> {
    let mut form = MultipartForm::default();
    let mut memory_left = max_memory.saturating_add(VALUE_ALLOWANCE);
    let mut file_memory_left = max_memory;
    let mut parts = 0;
    while let Some(mut part) = multipart.next_part()? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(MultipartError::TooLarge);
        }
        let Some(name) = part.form_name() else {
            continue;
        };
        memory_left = charge(memory_left, name.len() as u64 + ENTRY_OVERHEAD)?;
        let Some(filename) = part.file_name() else {
            let mut value = Vec::new();
            let read = (&mut part).take(memory_left + 1).read_to_end(&mut value);
            read.map_err(from_io)?;
            memory_left = charge(memory_left, value.len() as u64)?;
            form.values
                .push((name, String::from_utf8_lossy(&value).into_owned()));
            continue;
        };
        let headers = part.headers().to_vec();
        let header_size: u64 = headers
            .iter()
            .map(|(n, v)| (n.len() + v.len()) as u64)
            .sum();
        memory_left = charge(memory_left, header_size + ENTRY_OVERHEAD + 100)?;
        let mut bytes = Vec::new();
        let read = (&mut part)
            .take(file_memory_left + 1)
            .read_to_end(&mut bytes);
        read.map_err(from_io)?;
        let (content, size) = if bytes.len() as u64 > file_memory_left {
            spill(bytes, &mut part)?
        } else {
            file_memory_left -= bytes.len() as u64;
            memory_left = memory_left.saturating_sub(bytes.len() as u64);
            let size = bytes.len() as u64;
            (Content::Memory(bytes), size)
        };
        let file = FileHeader {
            filename,
            headers,
            size,
            content,
        };
        form.files.push((name, file));
    }
    Ok(form)
}

/// The multipart error a part's read failed with, or the I/O error itself.
fn from_io(e: io::Error) -> MultipartError {
    if !e
        .get_ref()
        .is_some_and(|inner| inner.is::<MultipartError>())
    {
        return MultipartError::Io(e);
    }
    match e
        .into_inner()
        .map(|inner| inner.downcast::<MultipartError>())
    {
        Some(Ok(inner)) => *inner,
        _ => unreachable!("checked above to hold a MultipartError"),
    }
}

/// Takes `cost` from what is left; past it, the form is too large.
fn charge(left: u64, cost: u64) -> Result<u64, MultipartError> {
    left.checked_sub(cost).ok_or(MultipartError::TooLarge)
}

/// Writes `head` and the rest of `rest` to a new temporary file.
fn spill(head: Vec<u8>, rest: &mut impl Read) -> Result<(Content, u64), MultipartError> {
    let mut file = temporary_file().map_err(MultipartError::Io)?;
    file.write_all(&head).map_err(MultipartError::Io)?;
    let copied = io::copy(rest, &mut file);
    let size = head.len() as u64 + copied.map_err(from_io)?;
    Ok((Content::Disk(Arc::new(file)), size))
}

/// A new file in the system's temporary directory, already unlinked.
fn temporary_file() -> io::Result<File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("nethttp-multipart-{}-{n}", std::process::id());
        let path: PathBuf = std::env::temp_dir().join(name);
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
