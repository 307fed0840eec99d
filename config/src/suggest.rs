//! "Did you mean" suggestions for misspelt keys and values.

/// The candidate closest to `input`, if it is close enough to be a plausible typo.
/// Case differences alone always match (`image` → `Image`).
pub(crate) fn closest<'c>(input: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lowered = input.to_ascii_lowercase();
    let mut best: Option<(f64, &'c str)> = None;
    for candidate in candidates {
        if candidate.eq_ignore_ascii_case(input) {
            return Some(candidate);
        }
        let candidate_lower = candidate.to_ascii_lowercase();
        let score = strsim::jaro_winkler(&lowered, &candidate_lower);
        // One swapped, missing or extra character is a typo even in a short word (`wbe`).
        let one_edit = lowered.len() >= 3 && strsim::damerau_levenshtein(&lowered, &candidate_lower) <= 1;
        if (score >= 0.85 || one_edit) && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_a_near_spelling() {
        assert_eq!(closest("Imgae", ["Image", "Exec", "Network"]), Some("Image"));
        assert_eq!(closest("isadmin", ["isAdmin", "ssh_key", "shell"]), Some("isAdmin"));
        assert_eq!(closest("timeout_secs", ["timeout_seconds", "settle_seconds"]), Some("timeout_seconds"));
        assert_eq!(closest("wbe", ["web", "db"]), Some("web"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("zzz", ["Image", "Exec"]), None);
    }
}
