//! Request context handed to endpoint handlers and the answers they produce.

use serde_json::{Map, Value, json};

use crate::Version;

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
    /// The simulated release.
    pub version: Version,
    /// `deployment=development` (PHP warnings become HTTP 500).
    pub development: bool,
    /// `$_SERVER['REQUEST_URI']`: path and query string.
    pub uri: String,
    /// `$_SERVER['REMOTE_ADDR']`.
    pub remote_addr: String,
    /// The API key the request authenticated with.
    pub api_key: String,
}

impl Req {
    /// The revision context `Config::save()` records for a change made by this request.
    pub fn revision(&self) -> crate::backups::Revision {
        crate::backups::Revision::api(&self.user, &self.remote_addr, &self.api_key, &self.uri)
    }

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

/// An exception that api.php's `error_output()` turns into an error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// `DispatchException`: 404 "Endpoint not found".
    NotFound,
    /// Any other `Error`/`Exception` (TypeError, ErrorException from a warning on a
    /// development firewall ...): 500 "Unexpected error, check log for details"; `detail`
    /// is the exception's own message, shown only with `deployment=development`.
    Unexpected { detail: String },
    /// A controller `UserException`: 500 with its message and title.
    User { message: String, title: String },
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
    /// An exception rendered by api.php (shape depends on the release and deployment).
    Error(ApiError),
    /// A PHP warning raised by the controller. The shipped php.ini leaves warnings out of
    /// `error_reporting`, so a production firewall carries on and answers `production`;
    /// with `deployment=development` api.php's error handler throws an `ErrorException`.
    Warning {
        message: String,
        production: Box<Reply>,
    },
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

    /// A JSON answer written outside the controllers (authentication, body parsing);
    /// slashes not escaped.
    pub fn api_error(status: u16, body: Value) -> Reply {
        Reply::Json {
            status,
            body,
            escape_slashes: false,
        }
    }

    /// 404 `{"errorMessage":"Endpoint not found"}`.
    pub fn endpoint_not_found() -> Reply {
        Reply::Error(ApiError::NotFound)
    }

    /// 500 for a PHP error or exception; `detail` is its message (development only).
    pub fn unexpected(detail: impl Into<String>) -> Reply {
        Reply::Error(ApiError::Unexpected {
            detail: detail.into(),
        })
    }

    /// 500 for a controller `UserException`.
    pub fn user_exception(message: &str, title: &str) -> Reply {
        Reply::Error(ApiError::User {
            message: message.to_owned(),
            title: title.to_owned(),
        })
    }

    /// A PHP warning `message`; production firewalls answer `production` instead.
    pub fn warning(message: impl Into<String>, production: Reply) -> Reply {
        Reply::Warning {
            message: message.into(),
            production: Box::new(production),
        }
    }

    /// What the firewall actually answers: warnings resolved for the deployment mode.
    pub fn resolve(self, development: bool) -> Reply {
        match self {
            Reply::Warning {
                message,
                production,
            } => {
                if development {
                    Reply::unexpected(message)
                } else {
                    production.resolve(development)
                }
            }
            other => other,
        }
    }

    /// HTTP status of this answer (warnings must be resolved first; they count as 500).
    pub fn status(&self) -> u16 {
        match self {
            Reply::Json { status, .. } | Reply::Raw { status, .. } | Reply::Empty { status } => {
                *status
            }
            Reply::Error(ApiError::NotFound) => 404,
            Reply::Error(_) | Reply::Warning { .. } => 500,
        }
    }
}

/// A stand-in for the PHP stack trace `error_output()` adds on development firewalls.
const TRACE: &str = "#0 /usr/local/opnsense/mvc/app/library/OPNsense/Mvc/Dispatcher.php(147): \
OPNsense\\Mvc\\Controller->dispatch()\n#1 /usr/local/opnsense/www/api.php(25): \
OPNsense\\Mvc\\Router->routeRequest()\n#2 {main}";

impl ApiError {
    /// HTTP status api.php answers.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound => 404,
            ApiError::Unexpected { .. } | ApiError::User { .. } => 500,
        }
    }

    /// The envelope `error_output()` writes, as JSON text.
    ///
    /// Both releases: `errorMessage` (the generic text, or the exception's own message
    /// plus `errorTrace` when `/var/run/development` exists) and `errorTitle` for a
    /// `UserException`. 26.7 adds `errorLevel` for `UserException` and passes the JSON
    /// text through `htmlspecialchars(..., ENT_NOQUOTES)`. A 404 keeps its generic text in
    /// both modes here (the simulator does not model the dispatcher's class names).
    pub fn render(&self, version: Version, development: bool) -> String {
        let mut body = Map::new();
        let (generic, detail) = match self {
            ApiError::NotFound => ("Endpoint not found".to_owned(), None),
            ApiError::Unexpected { detail } => (
                "Unexpected error, check log for details".to_owned(),
                Some(detail.clone()),
            ),
            ApiError::User { message, .. } => (message.clone(), Some(message.clone())),
        };
        match (development, detail) {
            (true, Some(detail)) => {
                body.insert("errorMessage".into(), Value::String(detail));
                body.insert("errorTrace".into(), Value::String(TRACE.to_owned()));
            }
            _ => {
                body.insert("errorMessage".into(), Value::String(generic));
            }
        }
        if let ApiError::User { title, .. } = self {
            body.insert("errorTitle".into(), Value::String(title.clone()));
            if version >= Version::V26_7 {
                body.insert("errorLevel".into(), Value::String("error".into()));
            }
        }
        let text = serde_json::to_string(&Value::Object(body)).unwrap_or_else(|_| "[]".into());
        if version >= Version::V26_7 {
            html_escape_noquotes(&text)
        } else {
            text
        }
    }
}

/// PHP `htmlspecialchars($s, ENT_NOQUOTES)`: `&`, `<` and `>` only.
pub(crate) fn html_escape_noquotes(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Marker error: the request makes PHP fail while decoding the input into the model
/// (an array posted for a leaf, a scalar for a container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputError {
    /// `BaseField::setNodes()` throws "Invalid input type" (HTTP 500 everywhere).
    Exception(String),
    /// 26.1 casts an array to string: PHP warning "Array to string conversion" and the
    /// literal value `Array` on production firewalls.
    ArrayToString,
}

impl From<InputError> for Reply {
    fn from(e: InputError) -> Reply {
        match e {
            InputError::Exception(message) => Reply::unexpected(message),
            // Only reached on development firewalls (see fields::apply_input).
            InputError::ArrayToString => Reply::unexpected("Array to string conversion"),
        }
    }
}
