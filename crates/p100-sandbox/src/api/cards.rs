//! Virtual cards. The newest docs mark the whole card module "Service Suspended": every card
//! endpoint is disabled and answers an error. The sandbox answers exactly that, after the API key
//! check, whatever the request.

use axum::Router;

use super::{route, App};
use crate::error::ApiError;

pub(super) fn routes(r: Router<App>) -> Router<App> {
    [
        "card_create",
        "card_list",
        "card_get",
        "card_update_pin",
        "card_block",
        "card_unblock",
        "card_get_limits",
        "card_update_limits",
        "card_delete",
    ]
    .into_iter()
    .fold(r, |r, id| route(r, id, suspended))
}

async fn suspended() -> ApiError {
    ApiError::card_module_suspended()
}
