//! One handler per OPNsense API area, and the CRUD plumbing they share.
//!
//! Most OPNsense areas are `ApiMutableModelControllerBase` grids with the same six actions
//! (search/get/add/set/del/toggle) under different names and wrapper keys: a [`Resource`]
//! describes one, builds its requests without I/O, and [`Client`] runs them once for all.

pub mod firewall;
pub mod ids;
pub mod interfaces;
pub mod kea;
pub mod routes;
pub mod services;
pub mod system;
pub mod unbound;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::outcome::{self, Saved, Toggled};
use crate::path::Uuid;
use crate::request::{Method, Request, SearchPage, SearchQuery};

/// A model grid on OPNsense: its endpoints and the key records are wrapped in.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// Human name for messages ("firewall rule").
    pub kind: &'static str,
    /// Body wrapper key for add/set and the key a get answers under (`rule`, `alias`, ...).
    pub wrapper: &'static str,
    /// Search endpoint (POST with paging body).
    pub search: &'static str,
    /// Get endpoint (`/{uuid}` appended).
    pub get: &'static str,
    /// Add endpoint.
    pub add: &'static str,
    /// Set endpoint (`/{uuid}` appended).
    pub set: &'static str,
    /// Delete endpoint (`/{uuid}` appended).
    pub del: &'static str,
    /// Toggle endpoint (`/{uuid}[/{0|1}]` appended).
    pub toggle: &'static str,
    /// The toggle's optional argument means "disabled" (d_nat) rather than "enabled".
    pub toggle_inverted: bool,
}

impl Resource {
    /// `POST <search>` with the paging body plus `extra` keys.
    pub fn search_request(&self, q: &SearchQuery, extra: Map<String, Value>) -> Request {
        let mut body = q.to_body();
        body.extend(extra);
        Request::post(self.search).json(Value::Object(body))
    }

    /// `GET <get>/<uuid>`.
    pub fn get_request(&self, id: &Uuid) -> Request {
        Request::get(self.get).segment(id.as_str())
    }

    /// `POST <add>` with `{"<wrapper>": item}`.
    pub fn add_request(&self, item: &impl Serialize) -> Result<Request> {
        Ok(Request::post(self.add).json(self.wrap(item)?))
    }

    /// `POST <set>/<uuid>` with `{"<wrapper>": item}` (only the fields present change).
    pub fn set_request(&self, id: &Uuid, item: &impl Serialize) -> Result<Request> {
        Ok(Request::post(self.set)
            .segment(id.as_str())
            .json(self.wrap(item)?))
    }

    /// `POST <del>/<uuid>` without a body.
    pub fn del_request(&self, id: &Uuid) -> Request {
        Request::post(self.del).segment(id.as_str())
    }

    /// `POST <toggle>/<uuid>[/0|1]` without a body; `enabled: None` flips.
    pub fn toggle_request(&self, id: &Uuid, enabled: Option<bool>) -> Request {
        let req = Request::post(self.toggle).segment(id.as_str());
        match enabled {
            None => req,
            Some(on) => req.segment(if on == self.toggle_inverted { "0" } else { "1" }),
        }
    }

    fn wrap(&self, item: &impl Serialize) -> Result<Value> {
        let inner = serde_json::to_value(item)
            .map_err(|e| Error::invalid(self.wrapper, format!("cannot encode: {e}")))?;
        if !inner.is_object() {
            return Err(Error::invalid(self.wrapper, "must be an object"));
        }
        let mut outer = Map::new();
        outer.insert(self.wrapper.to_owned(), inner);
        Ok(Value::Object(outer))
    }
}

/// The shared CRUD calls, used by every handler.
impl Client {
    /// Runs a search on `res`.
    pub async fn search_resource<T: DeserializeOwned>(
        &self,
        res: &Resource,
        q: &SearchQuery,
        extra: Map<String, Value>,
    ) -> Result<SearchPage<T>> {
        self.send_json(res.search_request(q, extra)).await
    }

    /// Gets one record; OPNsense's `[]` for an unknown uuid becomes [`Error::NotFound`].
    pub async fn get_resource<T: DeserializeOwned>(&self, res: &Resource, id: &Uuid) -> Result<T> {
        let (wrapper, kind) = (res.wrapper, res.kind);
        self.execute(res.get_request(id), |path, v| {
            outcome::item(path, wrapper, kind, id, v)
        })
        .await
    }

    /// Adds a record (staged until the area's apply).
    pub async fn add_resource(&self, res: &Resource, item: &impl Serialize) -> Result<Saved> {
        self.execute(res.add_request(item)?, |path, v| outcome::saved(path, &v))
            .await
    }

    /// Changes the given fields of a record (staged until the area's apply).
    ///
    /// OPNsense's `set` with an unknown but well-formed uuid silently *creates* a record, so this
    /// first checks that `id` exists and answers [`Error::NotFound`] otherwise.
    pub async fn set_resource(
        &self,
        res: &Resource,
        id: &Uuid,
        item: &impl Serialize,
    ) -> Result<()> {
        let req = res.set_request(id, item)?;
        self.get_resource::<Value>(res, id).await?;
        self.execute(req, |path, v| outcome::saved(path, &v).map(|_| ()))
            .await
    }

    /// [`Self::set_resource`] without the existence check, for areas whose get cannot say
    /// "not found" (the caller has checked).
    pub(crate) async fn set_resource_unchecked(
        &self,
        res: &Resource,
        id: &Uuid,
        item: &impl Serialize,
    ) -> Result<()> {
        self.execute(res.set_request(id, item)?, |path, v| {
            outcome::saved(path, &v).map(|_| ())
        })
        .await
    }

    /// Deletes a record (staged until the area's apply).
    pub async fn delete_resource(&self, res: &Resource, id: &Uuid) -> Result<()> {
        let kind = res.kind;
        self.execute(res.del_request(id), |path, v| {
            outcome::deleted(path, kind, id.as_str(), &v)
        })
        .await
    }

    /// Enables, disables (`Some`) or flips (`None`) a record (staged until the area's apply).
    pub async fn toggle_resource(
        &self,
        res: &Resource,
        id: &Uuid,
        enabled: Option<bool>,
    ) -> Result<Toggled> {
        let kind = res.kind;
        self.execute(res.toggle_request(id, enabled), |path, v| {
            outcome::toggled(path, kind, id.as_str(), &v)
        })
        .await
    }

    /// POSTs a body-less action and checks `{"<key>": "..."}` with `ok`.
    pub(crate) async fn action(
        &self,
        req: Request,
        action: &'static str,
        key: &'static str,
        ok: fn(&str) -> bool,
    ) -> Result<crate::outcome::ActionStatus> {
        debug_assert_eq!(req.method, Method::Post);
        self.execute(req, |path, v| outcome::status(path, action, key, &v, ok))
            .await
    }
}

/// Handlers for the areas. Each borrows the client; create them freely.
impl Client {
    /// `core/system`, `core/firmware`, `core/backup`.
    pub fn system(&self) -> system::SystemHandler<'_> {
        system::SystemHandler::new(self)
    }

    /// `firewall/filter`, `firewall/alias`, `firewall/d_nat`.
    pub fn firewall(&self) -> firewall::FirewallHandler<'_> {
        firewall::FirewallHandler::new(self)
    }

    /// `diagnostics/interface`.
    pub fn interfaces(&self) -> interfaces::InterfacesHandler<'_> {
        interfaces::InterfacesHandler::new(self)
    }

    /// `routes/routes` (static routes).
    pub fn routes(&self) -> routes::RoutesHandler<'_> {
        routes::RoutesHandler::new(self)
    }

    /// `kea/*` (Kea DHCPv4).
    pub fn kea(&self) -> kea::KeaHandler<'_> {
        kea::KeaHandler::new(self)
    }

    /// `unbound/*` (Unbound DNS).
    pub fn unbound(&self) -> unbound::UnboundHandler<'_> {
        unbound::UnboundHandler::new(self)
    }

    /// `ids/*` (Suricata IDS/IPS).
    pub fn ids(&self) -> ids::IdsHandler<'_> {
        ids::IdsHandler::new(self)
    }

    /// `{module}/service/*` for one service module.
    pub fn service(&self, module: services::ServiceModule) -> services::ServiceHandler<'_> {
        services::ServiceHandler::new(self, module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RES: Resource = Resource {
        kind: "thing",
        wrapper: "thing",
        search: "a/b/search",
        get: "a/b/get",
        add: "a/b/add",
        set: "a/b/set",
        del: "a/b/del",
        toggle: "a/b/toggle",
        toggle_inverted: true,
    };

    fn id() -> Uuid {
        Uuid::parse("5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01").expect("uuid")
    }

    #[test]
    fn requests_are_built_without_io() {
        let r = RES.add_request(&json!({"x": "1"})).expect("req");
        assert_eq!(
            (r.method, r.path.as_str(), r.body),
            (Method::Post, "a/b/add", Some(json!({"thing": {"x": "1"}})))
        );
        let r = RES.del_request(&id());
        assert_eq!(r.path, "a/b/del/5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01");
        assert!(r.body.is_none());
        // Inverted toggle: enabling sends "disabled = 0".
        let r = RES.toggle_request(&id(), Some(true));
        assert!(r.path.ends_with("/0"));
        assert!(RES.add_request(&json!("scalar")).is_err());
    }
}
