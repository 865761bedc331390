//! A render's YAML stream on its way to stdout, with memory that does not grow with the
//! repository.
//!
//! Nothing reaches stdout before the whole render succeeded, so the stream has to be held
//! somewhere until then. Up to a limit it is held in memory; past it, each full buffer moves
//! to an anonymous temporary file (unlinked at creation, gone when the process ends),
//! encrypted with AES-256-GCM under a key that exists only in this process: rendered Secrets
//! never reach the disk in the clear, and a file changed underneath fails to decrypt instead
//! of being printed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::{AeadInPlace as _, Aes256Gcm, KeyInit as _};
use zeroize::Zeroizing;

use crate::error::{Diagnostic, Error, Result};
use crate::object::Object;

/// Bytes kept in memory before the stream moves to a temporary file.
pub const MEMORY_LIMIT: usize = 64 << 20;
/// Once it has moved, the stream goes to the file in segments of about this size.
const SEGMENT: usize = 4 << 20;

const TAG_LEN: usize = 16;

pub struct Spool {
    /// The stream while it is in memory, in chunks of about [`CHUNK`] bytes allocated once
    /// each: not one buffer that doubles (each doubling copied the stream so far and faulted
    /// in fresh memory for it).
    chunks: Vec<Vec<u8>>,
    /// Bytes in `chunks`.
    held: usize,
    /// Once the stream has moved to the file: the part of the segment not yet sealed.
    buffer: Vec<u8>,
    limit: usize,
    segment: usize,
    file: Option<Spill>,
}

/// Written before every document.
const SEPARATOR: &[u8] = b"---\n";
/// The size of a chunk of the stream in memory (a larger document gets a chunk of its own).
const CHUNK: usize = 1 << 20;

/// The encrypted part of the stream: segments of `length (u64 LE) || ciphertext || tag`,
/// segment `n` sealed with nonce `n`, so segments cannot be reordered either.
struct Spill {
    file: File,
    cipher: Aes256Gcm,
    segments: u64,
}

fn nonce(segment: u64) -> GenericArray<u8, aes_gcm::aead::consts::U12> {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&segment.to_be_bytes());
    GenericArray::from(bytes)
}

fn io(what: &str, e: &std::io::Error) -> Error {
    Error::io(what, e)
}

fn write(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .map_err(|e| io("cannot write to stdout", &e))
}

impl Default for Spool {
    fn default() -> Self {
        Spool::with_limits(MEMORY_LIMIT, SEGMENT)
    }
}

impl Spool {
    fn with_limits(limit: usize, segment: usize) -> Spool {
        Spool {
            chunks: Vec::new(),
            held: 0,
            buffer: Vec::new(),
            limit,
            segment: segment.clamp(1, limit.max(1)),
            file: None,
        }
    }

    /// Appends objects as YAML documents, taking the text already rendered for them.
    pub fn push(&mut self, objects: Vec<Object>) -> Result<()> {
        for object in objects {
            let document = match object.yaml {
                Some(text) => text,
                None => crate::yaml::write::document(&object.value),
            };
            if self.spilled() {
                self.append(SEPARATOR)?;
                self.append(document.as_bytes())?;
                continue;
            }
            self.hold(&document);
            if self.held >= self.limit {
                self.move_to_file()?;
            }
        }
        Ok(())
    }

    /// Whether part of the stream is in the temporary file.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Adds one document and its separator to the last chunk, or to a new one.
    fn hold(&mut self, document: &str) {
        let need = SEPARATOR.len() + document.len();
        let chunk = match self.chunks.last_mut() {
            Some(chunk) if chunk.capacity() - chunk.len() >= need => chunk,
            _ => {
                self.chunks.push(Vec::with_capacity(need.max(CHUNK)));
                let last = self.chunks.len() - 1;
                &mut self.chunks[last]
            }
        };
        chunk.extend_from_slice(SEPARATOR);
        chunk.extend_from_slice(document.as_bytes());
        self.held += need;
    }

    /// The memory limit is reached: everything held so far goes to the file, in order.
    fn move_to_file(&mut self) -> Result<()> {
        self.open_file()?;
        self.held = 0;
        for chunk in std::mem::take(&mut self.chunks) {
            self.append(&chunk)?;
        }
        Ok(())
    }

    /// Adds bytes to the segment being filled, sealing it once it is full.
    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.segment {
            self.spill()?;
        }
        Ok(())
    }

    fn open_file(&mut self) -> Result<&mut Spill> {
        if self.file.is_none() {
            let file = tempfile::tempfile()
                .map_err(|e| io("cannot create a temporary file for the output", &e))?;
            let mut key = Zeroizing::new([0u8; 32]);
            getrandom::getrandom(key.as_mut_slice())
                .map_err(|e| Diagnostic::new(format!("cannot get random bytes for a key: {e}")))?;
            let cipher = Aes256Gcm::new(GenericArray::from_slice(key.as_slice()));
            self.file = Some(Spill {
                file,
                cipher,
                segments: 0,
            });
        }
        self.file.as_mut().ok_or_else(|| {
            Diagnostic::new("internal: the output's temporary file is missing").into()
        })
    }

    /// Seals the buffer into the file, in segments, and empties it.
    fn spill(&mut self) -> Result<()> {
        let mut buffer = std::mem::take(&mut self.buffer);
        let segment = self.segment;
        let spill = self.open_file()?;
        for chunk in buffer.chunks_mut(segment) {
            let tag = spill
                .cipher
                .encrypt_in_place_detached(&nonce(spill.segments), b"", chunk)
                .map_err(|_| Diagnostic::new("cannot encrypt the output for its temporary file"))?;
            spill.segments += 1;
            let length = chunk.len() as u64;
            spill
                .file
                .write_all(&length.to_le_bytes())
                .and_then(|()| spill.file.write_all(chunk))
                .and_then(|()| spill.file.write_all(&tag))
                .map_err(|e| io("cannot write the output's temporary file", &e))?;
        }
        // The buffer holds one segment at a time: give the rest back, keep the memory.
        buffer.clear();
        buffer.shrink_to(segment * 2);
        self.buffer = buffer;
        Ok(())
    }

    /// Writes the whole stream to `out`, in order. The temporary file is read twice: every
    /// segment is checked before the first byte is written, so a damaged file writes nothing.
    pub fn write_to(self, out: &mut dyn Write) -> Result<()> {
        let Spool {
            chunks,
            buffer,
            file,
            ..
        } = self;
        if let Some(mut spill) = file {
            let mut segment = Vec::new();
            for pass in [Pass::Check, Pass::Write] {
                spill
                    .file
                    .seek(SeekFrom::Start(0))
                    .map_err(|e| io("cannot read the output's temporary file", &e))?;
                for n in 0..spill.segments {
                    spill.read_segment(n, &mut segment)?;
                    if pass == Pass::Write {
                        write(out, &segment)?;
                    }
                }
            }
        }
        write(out, &buffer)?;
        for chunk in &chunks {
            write(out, chunk)?;
        }
        out.flush().map_err(|e| io("cannot write to stdout", &e))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Check,
    Write,
}

impl Spill {
    /// Reads and decrypts segment `n`, the next one in the file, into `segment`.
    fn read_segment(&mut self, n: u64, segment: &mut Vec<u8>) -> Result<()> {
        let damaged = || {
            Error::from(
                Diagnostic::new("the output's temporary file was changed while rendering")
                    .hint("nothing was written; run the render again"),
            )
        };
        let read_error = |e: std::io::Error| io("cannot read the output's temporary file", &e);
        let mut length = [0u8; 8];
        self.file.read_exact(&mut length).map_err(read_error)?;
        let size = self.file.metadata().map_err(read_error)?.len();
        let length = u64::from_le_bytes(length);
        if length > size {
            return Err(damaged());
        }
        let length = usize::try_from(length).map_err(|_| damaged())?;
        segment.resize(length, 0);
        self.file.read_exact(segment).map_err(read_error)?;
        let mut tag = [0u8; TAG_LEN];
        self.file.read_exact(&mut tag).map_err(read_error)?;
        self.cipher
            .decrypt_in_place_detached(&nonce(n), b"", segment, GenericArray::from_slice(&tag))
            .map_err(|_| damaged())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objects(count: usize) -> Vec<Object> {
        (0..count)
            .map(|i| {
                let value = json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": format!("s{i}"), "namespace": "acme"},
                    "stringData": {"password": format!("hunter2-{i}")},
                });
                Object::from_value(value, "acme", Some("api"), None, false)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    fn expected(objects: &[Object]) -> String {
        objects
            .iter()
            .map(|o| format!("---\n{}", super::super::yaml(o)))
            .collect()
    }

    #[test]
    fn a_small_stream_stays_in_memory() {
        let objects = objects(3);
        let mut spool = Spool::default();
        spool.push(objects.clone()).unwrap();
        assert!(!spool.spilled());
        let mut out = Vec::new();
        spool.write_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected(&objects));
    }

    #[test]
    fn chunks_in_memory_keep_the_order_and_fit_large_documents() {
        let mut objects = objects(3000);
        let big = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "big", "namespace": "acme"},
            "data": {"blob": "x".repeat(CHUNK + 10)},
        });
        let big = Object::from_value(big, "acme", Some("api"), None, false).unwrap();
        objects.insert(1500, big);
        let mut spool = Spool::default();
        spool.push(objects[..2000].to_vec()).unwrap();
        spool.push(objects[2000..].to_vec()).unwrap();
        assert!(!spool.spilled());
        assert!(spool.chunks.len() >= 2, "{} chunks", spool.chunks.len());
        assert!(spool.chunks.iter().all(|c| c.len() <= c.capacity()));
        let mut out = Vec::new();
        spool.write_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected(&objects));
    }

    #[test]
    fn a_large_stream_goes_through_the_encrypted_file_in_order() {
        let objects = objects(200);
        let mut spool = Spool::with_limits(4000, 700);
        spool.push(objects[..120].to_vec()).unwrap();
        spool.push(objects[120..].to_vec()).unwrap();
        assert!(spool.spilled());
        let spill = spool.file.as_mut().unwrap();
        assert!(spill.segments > 5, "{} segments", spill.segments);

        // What is on disk holds none of the secret values.
        let mut on_disk = Vec::new();
        spill.file.seek(SeekFrom::Start(0)).unwrap();
        spill.file.read_to_end(&mut on_disk).unwrap();
        assert!(on_disk.len() > 1000);
        assert!(!on_disk.windows(7).any(|w| w == b"hunter2"));

        let mut out = Vec::new();
        spool.write_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected(&objects));
    }

    #[test]
    fn a_changed_temporary_file_is_refused() {
        let objects = objects(50);
        let mut spool = Spool::with_limits(500, 500);
        spool.push(objects.clone()).unwrap();
        let spill = spool.file.as_mut().unwrap();
        assert!(spill.segments > 2);
        // Flip one byte of the last segment's tag: the segments before it are sound, and
        // must not be written either.
        let end = spill.file.seek(SeekFrom::End(0)).unwrap();
        spill.file.seek(SeekFrom::Start(end - 1)).unwrap();
        let mut byte = [0u8; 1];
        spill.file.read_exact(&mut byte).unwrap();
        spill.file.seek(SeekFrom::Start(end - 1)).unwrap();
        spill.file.write_all(&[byte[0] ^ 1]).unwrap();

        let mut out = Vec::new();
        let err = spool.write_to(&mut out).unwrap_err();
        assert!(err.to_string().contains("was changed"), "{err}");
        assert!(out.is_empty(), "nothing may be written from a damaged file");
    }
}
