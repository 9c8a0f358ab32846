//! Every REST endpoint's method and path, declared once: the server's endpoint table routes
//! exactly these, and the programs that call the API build their URLs from them (through the
//! typed calls of [`crate::calls`], which fill them with [`Route::url`]), so no path is written
//! twice (`xtask/tests/api_paths.rs` looks for strays).

/// Where the API lives on a studio.
pub const PREFIX: &str = "/api/v1";

/// One endpoint's method and path under [`PREFIX`], with `{parameters}` in axum's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

impl Route {
    /// The URL of this route on the studio at `base` (`https://studio:8080`, or `""` for the
    /// browser's own origin), its `{parameters}` replaced in order by `args`, each
    /// percent-encoded as one path segment. A parameter without an argument stays as written.
    pub fn url(&self, base: &str, args: &[&str]) -> String {
        let mut out = format!("{}{PREFIX}", base.trim_end_matches('/'));
        let mut args = args.iter();
        for segment in self.path.split('/').skip(1) {
            out.push('/');
            let arg = if segment.starts_with('{') {
                args.next()
            } else {
                None
            };
            match arg {
                Some(arg) => out.push_str(&encode(arg)),
                None => out.push_str(segment),
            }
        }
        out
    }
}

/// `segment` (a path segment or a query value) percent-encoded: everything but RFC 3986's
/// unreserved characters (and `:`, which event ids hold and a path segment may).
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub const GET_ALERTS: Route = Route {
    method: "GET",
    path: "/alerts",
};
pub const POST_ALERTS: Route = Route {
    method: "POST",
    path: "/alerts",
};
pub const GET_ALERTS_COUNTS: Route = Route {
    method: "GET",
    path: "/alerts/counts",
};
pub const GET_ALERTS_STREAM: Route = Route {
    method: "GET",
    path: "/alerts/stream",
};
pub const GET_AUDIT: Route = Route {
    method: "GET",
    path: "/audit",
};
pub const POST_BASELINES: Route = Route {
    method: "POST",
    path: "/baselines",
};
pub const GET_BASELINES: Route = Route {
    method: "GET",
    path: "/baselines",
};
pub const DELETE_BASELINES_ID: Route = Route {
    method: "DELETE",
    path: "/baselines/{id}",
};
pub const POST_COLLECTORS_HEARTBEAT: Route = Route {
    method: "POST",
    path: "/collectors/heartbeat",
};
pub const GET_COLLECTORS: Route = Route {
    method: "GET",
    path: "/collectors",
};
pub const GET_OPENAPI_JSON: Route = Route {
    method: "GET",
    path: "/openapi.json",
};
pub const GET_DOCS: Route = Route {
    method: "GET",
    path: "/docs",
};
pub const POST_EVENTS: Route = Route {
    method: "POST",
    path: "/events",
};
pub const GET_EVENTS: Route = Route {
    method: "GET",
    path: "/events",
};
pub const GET_EVENTS_STREAM: Route = Route {
    method: "GET",
    path: "/events/stream",
};
pub const GET_EVENTS_ID: Route = Route {
    method: "GET",
    path: "/events/{id}",
};
pub const GET_EVENTS_ID_MATCHES: Route = Route {
    method: "GET",
    path: "/events/{id}/matches",
};
pub const POST_EVENTS_ID_LABEL: Route = Route {
    method: "POST",
    path: "/events/{id}/label",
};
pub const GET_LABELS: Route = Route {
    method: "GET",
    path: "/labels",
};
pub const GET_EVENTS_EXPORT: Route = Route {
    method: "GET",
    path: "/events/export",
};
pub const GET_LIVE: Route = Route {
    method: "GET",
    path: "/live",
};
pub const GET_LIVE_RULES_YAML: Route = Route {
    method: "GET",
    path: "/live/rules.yaml",
};
pub const GET_LIVE_HISTORY: Route = Route {
    method: "GET",
    path: "/live/history",
};
pub const POST_LIVE_ROLLBACK: Route = Route {
    method: "POST",
    path: "/live/rollback",
};
pub const POST_PREVIEW: Route = Route {
    method: "POST",
    path: "/preview",
};
pub const POST_PREVIEW_SUGGEST_EXCEPTION: Route = Route {
    method: "POST",
    path: "/preview/suggest-exception",
};
pub const POST_PROPOSALS: Route = Route {
    method: "POST",
    path: "/proposals",
};
pub const GET_PROPOSALS: Route = Route {
    method: "GET",
    path: "/proposals",
};
pub const GET_PROPOSALS_ID: Route = Route {
    method: "GET",
    path: "/proposals/{id}",
};
pub const PUT_PROPOSALS_ID: Route = Route {
    method: "PUT",
    path: "/proposals/{id}",
};
pub const POST_PROPOSALS_ID_COMMENTS: Route = Route {
    method: "POST",
    path: "/proposals/{id}/comments",
};
pub const POST_PROPOSALS_ID_REVIEWS: Route = Route {
    method: "POST",
    path: "/proposals/{id}/reviews",
};
pub const POST_PROPOSALS_ID_PROMOTE: Route = Route {
    method: "POST",
    path: "/proposals/{id}/promote",
};
pub const POST_PROPOSALS_ID_CLOSE: Route = Route {
    method: "POST",
    path: "/proposals/{id}/close",
};
pub const POST_PROPOSALS_ID_REBASE: Route = Route {
    method: "POST",
    path: "/proposals/{id}/rebase",
};
pub const POST_PROPOSALS_ID_EVIDENCE: Route = Route {
    method: "POST",
    path: "/proposals/{id}/evidence",
};
pub const POST_SESSION: Route = Route {
    method: "POST",
    path: "/session",
};
pub const GET_SESSION: Route = Route {
    method: "GET",
    path: "/session",
};
pub const DELETE_SESSION: Route = Route {
    method: "DELETE",
    path: "/session",
};
pub const GET_ALERTS_SUMMARY: Route = Route {
    method: "GET",
    path: "/alerts/summary",
};
pub const GET_ALERTS_ID: Route = Route {
    method: "GET",
    path: "/alerts/{id}",
};
pub const POST_ALERTS_ID_TRIAGE: Route = Route {
    method: "POST",
    path: "/alerts/{id}/triage",
};
pub const POST_USERS: Route = Route {
    method: "POST",
    path: "/users",
};
pub const GET_USERS: Route = Route {
    method: "GET",
    path: "/users",
};
pub const DELETE_USERS_USERNAME: Route = Route {
    method: "DELETE",
    path: "/users/{username}",
};
pub const PATCH_USERS_USERNAME: Route = Route {
    method: "PATCH",
    path: "/users/{username}",
};
pub const PUT_USERS_USERNAME_PASSWORD: Route = Route {
    method: "PUT",
    path: "/users/{username}/password",
};
pub const POST_USERS_USERNAME_TOKENS: Route = Route {
    method: "POST",
    path: "/users/{username}/tokens",
};
pub const GET_USERS_USERNAME_TOKENS: Route = Route {
    method: "GET",
    path: "/users/{username}/tokens",
};
pub const DELETE_USERS_USERNAME_TOKENS_NAME: Route = Route {
    method: "DELETE",
    path: "/users/{username}/tokens/{name}",
};

/// Every route, for the server's check that its table routes exactly these.
pub const ALL: &[Route] = &[
    GET_ALERTS,
    POST_ALERTS,
    GET_ALERTS_COUNTS,
    GET_ALERTS_STREAM,
    GET_AUDIT,
    POST_BASELINES,
    GET_BASELINES,
    DELETE_BASELINES_ID,
    POST_COLLECTORS_HEARTBEAT,
    GET_COLLECTORS,
    GET_OPENAPI_JSON,
    GET_DOCS,
    POST_EVENTS,
    GET_EVENTS,
    GET_EVENTS_STREAM,
    GET_EVENTS_ID,
    GET_EVENTS_ID_MATCHES,
    POST_EVENTS_ID_LABEL,
    GET_LABELS,
    GET_EVENTS_EXPORT,
    GET_LIVE,
    GET_LIVE_RULES_YAML,
    GET_LIVE_HISTORY,
    POST_LIVE_ROLLBACK,
    POST_PREVIEW,
    POST_PREVIEW_SUGGEST_EXCEPTION,
    POST_PROPOSALS,
    GET_PROPOSALS,
    GET_PROPOSALS_ID,
    PUT_PROPOSALS_ID,
    POST_PROPOSALS_ID_COMMENTS,
    POST_PROPOSALS_ID_REVIEWS,
    POST_PROPOSALS_ID_PROMOTE,
    POST_PROPOSALS_ID_CLOSE,
    POST_PROPOSALS_ID_REBASE,
    POST_PROPOSALS_ID_EVIDENCE,
    POST_SESSION,
    GET_SESSION,
    DELETE_SESSION,
    GET_ALERTS_SUMMARY,
    GET_ALERTS_ID,
    POST_ALERTS_ID_TRIAGE,
    POST_USERS,
    GET_USERS,
    DELETE_USERS_USERNAME,
    PATCH_USERS_USERNAME,
    PUT_USERS_USERNAME_PASSWORD,
    POST_USERS_USERNAME_TOKENS,
    GET_USERS_USERNAME_TOKENS,
    DELETE_USERS_USERNAME_TOKENS_NAME,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_fill_parameters_in_order_and_encode_them() {
        assert_eq!(
            DELETE_USERS_USERNAME_TOKENS_NAME.url("https://studio:8080/", &["a b", "ci/1"]),
            "https://studio:8080/api/v1/users/a%20b/tokens/ci%2F1"
        );
        assert_eq!(GET_EVENTS_ID.url("", &["n1:2:3"]), "/api/v1/events/n1:2:3");
        assert_eq!(GET_LIVE.url("http://s", &[]), "http://s/api/v1/live");
        assert_eq!(GET_PROPOSALS_ID.url("", &[]), "/api/v1/proposals/{id}");
    }

    #[test]
    fn every_route_is_declared_once() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
