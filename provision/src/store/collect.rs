//! Collection: keeps the newest [`KEEP_GENERATIONS`] generations plus `current` and
//! `previous`, and deletes the rest (each by an atomic rename out of sight, then removal).

use super::failpoints::{self as fp, hit};
use super::{KEEP_GENERATIONS, Store, StoreError, atomic, io_err};

impl Store {
    /// Deletes old generations; returns the ids removed. Call with the lock held and no
    /// transition pending.
    pub fn collect(&self) -> Result<Vec<u64>, StoreError> {
        let keep_links = [self.current_id(), self.previous_id()];
        let ids = self.generation_ids();
        let cutoff = ids.len().saturating_sub(KEEP_GENERATIONS);
        let mut removed = Vec::new();
        for id in &ids[..cutoff] {
            if keep_links.contains(&Some(*id)) {
                continue;
            }
            self.remove_generation(*id)?;
            hit(fp::COLLECT_AFTER_REMOVE);
            // Keep the outcome of the newest id ever used so ids are never reused;
            // outcomes of collected older generations go.
            let outcome = self.outcomes_dir().join(id.to_string());
            atomic::remove_file(&outcome).map_err(io_err("removing", &outcome))?;
            removed.push(*id);
        }
        Ok(removed)
    }
}
