//! The on-disk journal that holds database writes while the database cannot take them.
//!
//! One JSON object per line, appended and fsynced before the events those writes
//! belong to are published. Replayed in order when the database is back, then
//! truncated. A torn last line (the process died mid-append) is skipped with a warning:
//! its events were never published, so nothing a client saw is lost.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::writes::DbWrite;

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Writes waiting in the file.
    pending: usize,
}

impl Journal {
    /// Open the journal at `path`, counting what an earlier run left in it.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let mut journal = Journal {
            path: path.to_path_buf(),
            pending: 0,
        };
        journal.pending = journal.read()?.len();
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Append `writes` and make them durable.
    pub fn append(&mut self, writes: &[DbWrite]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut buffer = Vec::new();
        for write in writes {
            serde_json::to_writer(&mut buffer, write)?;
            buffer.push(b'\n');
        }
        file.write_all(&buffer)?;
        file.sync_data()?;
        self.pending += writes.len();
        Ok(())
    }

    /// Everything in the journal, in order.
    pub fn read(&self) -> std::io::Result<Vec<DbWrite>> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut writes = Vec::new();
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(&line) {
                Ok(write) => writes.push(write),
                Err(e) => tracing::warn!(
                    journal = %self.path.display(),
                    line = n + 1,
                    error = %e,
                    "skipping an unreadable journal line (torn write?)"
                ),
            }
        }
        Ok(writes)
    }

    /// Empty the journal after its writes were committed.
    pub fn clear(&mut self) -> std::io::Result<()> {
        match File::create(&self.path) {
            Ok(file) => file.sync_all()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.pending = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_clear_and_torn_lines() {
        let dir = std::env::temp_dir().join(format!("ctibridge-journal-{}", uuid::Uuid::now_v7()));
        let path = dir.join("j.journal");
        let mut journal = Journal::open(&path).unwrap();
        assert_eq!(journal.pending(), 0);
        let write = DbWrite::CallAcw {
            call_id: "c1".into(),
            acw_s: 3.5,
        };
        journal.append(&[write.clone(), write.clone()]).unwrap();
        // A torn line from a crash mid-append.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"op\":\"call_a")
            .unwrap();
        let reopened = Journal::open(&path).unwrap();
        assert_eq!(reopened.pending(), 2);
        assert_eq!(reopened.read().unwrap(), vec![write.clone(), write]);
        journal.clear().unwrap();
        assert!(Journal::open(&path).unwrap().read().unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
