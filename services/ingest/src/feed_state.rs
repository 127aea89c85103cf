//! What a polled feed remembers across restarts: its HTTP validators and the
//! ids of the entries already published, in one JSON file per feed.

use std::collections::{HashSet, VecDeque};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Entry ids remembered per feed. Feeds carry tens of entries; an id older
/// than this many newer ones will not come back.
pub const MAX_SEEN: usize = 10_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    url: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    /// Oldest first.
    #[serde(default)]
    seen: Vec<String>,
}

#[derive(Debug)]
pub struct FeedState {
    path: PathBuf,
    url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl FeedState {
    /// The state file of `url` under `dir` (named by a hash of the URL, so
    /// any URL makes a safe file name).
    pub fn path_for(dir: &Path, url: &str) -> PathBuf {
        let hash = blake3::hash(url.as_bytes()).to_hex();
        dir.join("feeds").join(format!("{}.json", &hash[..24]))
    }

    /// Loads the state, or starts empty when there is none yet. A file that
    /// cannot be read is an error: starting empty would publish every entry again.
    pub fn load(dir: &Path, url: &str) -> anyhow::Result<FeedState> {
        let path = Self::path_for(dir, url);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Stored>(&bytes)
                .with_context(|| format!("the feed state {} is corrupt", path.display()))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Stored::default(),
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read {}", path.display()))
            }
        };
        let mut state = FeedState {
            path,
            url: url.to_owned(),
            etag: stored.etag,
            last_modified: stored.last_modified,
            order: VecDeque::new(),
            seen: HashSet::new(),
        };
        for id in stored.seen {
            state.remember(id);
        }
        Ok(state)
    }

    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    pub fn seen_count(&self) -> usize {
        self.order.len()
    }

    /// Remembers an id, forgetting the oldest beyond [`MAX_SEEN`].
    pub fn remember(&mut self, id: String) {
        if !self.seen.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > MAX_SEEN {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    /// Writes the state atomically: a temporary file, synced, renamed over
    /// the old one, so a crash leaves either the old state or the new.
    pub fn save(&self) -> anyhow::Result<()> {
        let stored = Stored {
            url: self.url.clone(),
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
            seen: self.order.iter().cloned().collect(),
        };
        let dir = self.path.parent().context("the state path has no folder")?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        let temp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&stored).context("failed to encode the feed state")?;
        let mut file = std::fs::File::create(&temp)
            .with_context(|| format!("failed to create {}", temp.display()))?;
        file.write_all(&bytes)
            .with_context(|| format!("failed to write {}", temp.display()))?;
        file.sync_all()
            .with_context(|| format!("failed to sync {}", temp.display()))?;
        std::fs::rename(&temp, &self.path).with_context(|| {
            format!(
                "failed to rename {} to {}",
                temp.display(),
                self.path.display()
            )
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_reload_and_stays_bounded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = "http://example.com/feed.xml";
        let mut state = FeedState::load(dir.path(), url).expect("empty state");
        assert_eq!(state.seen_count(), 0);
        for i in 0..MAX_SEEN + 5 {
            state.remember(format!("id-{i}"));
        }
        state.remember("id-20".into()); // already there: no change
        state.etag = Some("\"v1\"".into());
        state.save().expect("saves");

        let again = FeedState::load(dir.path(), url).expect("reloads");
        assert_eq!(again.seen_count(), MAX_SEEN);
        assert!(!again.has_seen("id-0"), "the oldest ids are forgotten");
        assert!(again.has_seen(&format!("id-{}", MAX_SEEN + 4)));
        assert_eq!(again.etag.as_deref(), Some("\"v1\""));
        assert!(!FeedState::path_for(dir.path(), url)
            .with_extension("json.tmp")
            .exists());
    }

    #[test]
    fn a_corrupt_state_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = FeedState::path_for(dir.path(), "u");
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, b"{not json").expect("write");
        assert!(FeedState::load(dir.path(), "u").is_err());
    }
}
