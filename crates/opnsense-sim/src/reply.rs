//! Request context handed to endpoint handlers and the answers they produce.

use serde_json::{Map, Value, json};

/// A decoded API request as the controllers see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Req {
    /// `true` for POST (the only method mutating actions accept).
    pub is_post: bool,
    /// `true` for GET (model `get` actions answer data only for GET).
    pub is_get: bool,
    /// JSON body object (`$_POST`); empty when absent or unparsable.
    pub body: Map<String, Value>,
    /// Decoded query string pairs.
    pub query: Vec<(String, String)>,
    /// Positional path parameters after the action.
    pub params: Vec<String>,
    /// URL module segment, lower-cased (`unbound` in `/api/unbound/service/...`).
    pub module: String,
    /// Normalised action name (`searchrule`).
    pub action: String,
    /// API user name (for `updated.username` etc.).
    pub user: String,
}

impl Req {
    /// Positional parameter `i`, if present and non-empty.
    pub fn param(&self, i: usize) -> Option<&str> {
        self.params.get(i).map(String::as_str)
    }

    /// `$request->get(name)`: body first, then query string (as a string value).
    pub fn get_any(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.body.get(name) {
            return Some(v.clone());
        }
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Value::String(v.clone()))
    }
}

/// An answer: JSON (the normal case) or raw bytes (backup download).
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// JSON body; `escape_slashes` mimics PHP `json_encode` default flags (`/` => `\/`).
    Json {
        status: u16,
        body: Value,
        escape_slashes: bool,
    },
    /// Raw body with its own content type and extra headers.
    Raw {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// 401 with an empty body (no Authorization header).
    Empty { status: u16 },
}

impl Reply {
    /// HTTP 200 with a normal controller answer.
    pub fn ok(body: Value) -> Reply {
        Reply::Json {
            status: 200,
            body,
            escape_slashes: true,
        }
    }

    /// `{"result":"failed"}` (non-POST, missing wrapper, invalid uuid).
    pub fn failed() -> Reply {
        Reply::ok(json!({"result": "failed"}))
    }

    /// PHP's `[]` (unknown uuid, model `get` via POST ...).
    pub fn empty_list() -> Reply {
        Reply::ok(json!([]))
    }

    /// Error envelope written by api.php (slashes not escaped).
    pub fn api_error(status: u16, body: Value) -> Reply {
        Reply::Json {
            status,
            body,
            escape_slashes: false,
        }
    }

    /// 404 `{"errorMessage":"Endpoint not found"}`.
    pub fn endpoint_not_found() -> Reply {
        Reply::api_error(404, json!({"errorMessage": "Endpoint not found"}))
    }

    /// 500 for any PHP warning or exception.
    pub fn unexpected() -> Reply {
        Reply::api_error(
            500,
            json!({"errorMessage": "Unexpected error, check log for details"}),
        )
    }

    /// 500 for a controller `UserException`.
    pub fn user_exception(message: &str, title: &str) -> Reply {
        Reply::api_error(500, json!({"errorMessage": message, "errorTitle": title}))
    }

    /// HTTP status of this answer.
    pub fn status(&self) -> u16 {
        match self {
            Reply::Json { status, .. } | Reply::Raw { status, .. } | Reply::Empty { status } => {
                *status
            }
        }
    }
}

/// Marker error: the request would make PHP emit a warning (array given for a leaf,
/// scalar given for a container) which api.php turns into HTTP 500.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhpWarning;

impl From<PhpWarning> for Reply {
    fn from(_: PhpWarning) -> Reply {
        Reply::unexpected()
    }
}
