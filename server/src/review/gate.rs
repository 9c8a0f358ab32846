//! When a proposal may go live: approvals of the current revision, open change requests, the
//! base still being live, the lint and the rule tests. One list of reasons serves the `blockers`
//! that `GET` shows and the refusal that `promote` answers.

use crate::error::AppError;
use rulestudio_api::proposals::{Review, Status, Verdict};
use std::collections::BTreeMap;

/// What the reviews say about one revision.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Reviewers whose latest review approves this revision.
    pub approvals: u32,
    /// Reviewers whose latest review, of any revision, requests changes: a change request
    /// stays open until its reviewer approves.
    pub change_requests: Vec<String>,
}

/// `reviews` in the order they were made.
pub fn tally<'a>(reviews: impl IntoIterator<Item = &'a Review>, revision: i64) -> Tally {
    let mut latest: BTreeMap<&str, &Review> = BTreeMap::new();
    for r in reviews {
        latest.insert(&r.reviewer, r);
    }
    let mut t = Tally::default();
    for (reviewer, r) in latest {
        match r.verdict {
            Verdict::Approve if r.revision == revision => t.approvals += 1,
            Verdict::Approve => {}
            Verdict::RequestChanges => t.change_requests.push(reviewer.to_string()),
        }
    }
    t
}

impl Tally {
    /// Open or approved, for a proposal still under review.
    pub fn status(&self, required: u32) -> Status {
        if self.approvals >= required && self.change_requests.is_empty() {
            Status::Approved
        } else {
            Status::Open
        }
    }

    fn reasons(&self, revision: i64, required: u32) -> impl Iterator<Item = String> + '_ {
        let short = (self.approvals < required).then(|| {
            format!(
                "revision {revision} has {} of the {required} approvals it needs",
                self.approvals
            )
        });
        short.into_iter().chain(
            self.change_requests
                .iter()
                .map(|r| format!("`{r}` requested changes")),
        )
    }
}

/// Everything that stands between a proposal and the live set.
pub struct Blockers {
    /// Lint errors: the rules would not load (422 rather than 409).
    pub unprocessable: bool,
    pub reasons: Vec<String>,
}

pub struct Facts<'a> {
    pub id: i64,
    pub status: Status,
    pub revision: i64,
    pub base_version: i64,
    pub live_version: i64,
    pub required: u32,
    pub tally: &'a Tally,
    pub lint_errors: Vec<String>,
    pub failed_tests: Vec<String>,
    /// Reporting nodes whose engine is too old for the rules ([`super::nodes`]).
    pub nodes_behind: Option<String>,
}

pub fn blockers(f: Facts<'_>) -> Blockers {
    if !f.status.is_active() {
        return Blockers {
            unprocessable: false,
            reasons: vec![format!("proposal #{} is {}", f.id, f.status.as_str())],
        };
    }
    let unprocessable = !f.lint_errors.is_empty();
    let mut reasons = f.lint_errors;
    reasons.extend(f.failed_tests);
    reasons.extend(f.nodes_behind);
    reasons.extend(f.tally.reasons(f.revision, f.required));
    if f.base_version != f.live_version {
        reasons.push(format!(
            "the live set moved from version {} to {} since the proposal's base; rebase first",
            f.base_version, f.live_version
        ));
    }
    Blockers {
        unprocessable,
        reasons,
    }
}

impl Blockers {
    /// `Ok` when nothing blocks; otherwise the refusal.
    pub fn check(self, id: i64) -> Result<(), AppError> {
        if self.reasons.is_empty() {
            return Ok(());
        }
        Err(AppError::Refused {
            unprocessable: self.unprocessable,
            summary: format!("proposal #{id} cannot be promoted"),
            reasons: self.reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(id: i64, reviewer: &str, verdict: Verdict, revision: i64) -> Review {
        Review {
            id,
            reviewer: reviewer.into(),
            verdict,
            body: String::new(),
            revision,
            created_at: id,
        }
    }

    #[test]
    fn only_latest_approvals_of_the_current_revision_count() {
        let rs = [
            review(1, "bob", Verdict::Approve, 1),
            review(2, "carol", Verdict::RequestChanges, 1),
            review(3, "dave", Verdict::Approve, 2),
        ];
        let t = tally(&rs, 2);
        assert_eq!(t.approvals, 1);
        assert_eq!(t.change_requests, ["carol"]);
        assert_eq!(t.status(1), Status::Open);
        let rs = [
            review(1, "carol", Verdict::RequestChanges, 1),
            review(2, "carol", Verdict::Approve, 2),
        ];
        assert_eq!(tally(&rs, 2).status(1), Status::Approved);
        assert_eq!(tally(&rs, 3).status(1), Status::Open);
    }
}
