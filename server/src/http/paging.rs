//! Cursor paging for every list: `?limit=` (default 50, at most 200) and `?cursor=` with the
//! `next_cursor` of the page before. A cursor is opaque to clients: the sort key of the last
//! item sent, base64url-encoded JSON, so the next page starts strictly after it — stable when
//! items are added or removed meanwhile, and cheap (a keyset, not an offset).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// The query of a list request, as documented in OpenAPI.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

/// A validated page request; the cursor's key is decoded by the list that knows its type.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: usize,
    cursor: Option<String>,
}

impl Paging {
    /// The first page of this size (for internal callers).
    pub fn first(limit: usize) -> Paging {
        Paging {
            limit,
            cursor: None,
        }
    }

    /// The key the page starts after, if a cursor was given.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| invalid_cursor())?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| invalid_cursor())
    }

    /// The SQL `LIMIT` that tells whether another page follows: one more than the page.
    pub fn fetch_limit(&self) -> i64 {
        i64::try_from(self.limit + 1).unwrap_or(i64::MAX)
    }

    /// Cuts what was fetched (up to `limit + 1` items, in order) to the page, with the cursor of
    /// the next page when there is one.
    pub fn finish<T, K: Serialize>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> K,
    ) -> (Vec<T>, Option<String>) {
        if items.len() <= self.limit {
            return (items, None);
        }
        items.truncate(self.limit);
        let next = items.last().map(|last| encode(&key(last)));
        (items, next)
    }

    /// Pages a list that is already in memory and sorted by `key` (ascending, or descending
    /// when `descending`): for lists that are small by nature (open offers, one booking's
    /// history, a partner's fleet).
    pub fn in_memory<T, K>(
        &self,
        items: Vec<T>,
        key: impl Fn(&T) -> K,
        descending: bool,
    ) -> Result<(Vec<T>, Option<String>), ApiError>
    where
        K: Serialize + DeserializeOwned + Ord,
    {
        let after: Option<K> = self.after()?;
        let rest: Vec<T> = match &after {
            None => items,
            Some(after) => items
                .into_iter()
                .filter(|item| {
                    let k = key(item);
                    if descending {
                        k < *after
                    } else {
                        k > *after
                    }
                })
                .collect(),
        };
        let mut rest = rest;
        rest.truncate(self.limit + 1);
        Ok(self.finish(rest, key))
    }
}

fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn invalid_cursor() -> ApiError {
    ApiError::unprocessable(
        "invalid_cursor",
        "cursor is not one this list gave out; start again without it",
    )
    .with_field("cursor")
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let params: PageParams = serde_urlencoded_params(query)?;
        let limit = match params.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "invalid_limit",
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                    .with_field("limit")
                })?,
        };
        Ok(Paging {
            limit,
            cursor: params.cursor.filter(|c| !c.is_empty()),
        })
    }
}

/// The two paging parameters out of a query string; other parameters are left to their lists.
fn serde_urlencoded_params(query: &str) -> Result<PageParams, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| ApiError::bad_request("malformed_query", "the query string cannot be read"))?;
    let mut params = PageParams {
        limit: None,
        cursor: None,
    };
    for (name, value) in pairs {
        match name.as_str() {
            "limit" => params.limit = Some(value),
            "cursor" => params.cursor = Some(value),
            _ => {}
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(limit: usize, cursor: Option<String>) -> Paging {
        Paging { limit, cursor }
    }

    #[test]
    fn pages_in_memory_follow_each_other_without_gaps_or_repeats() {
        let items: Vec<i64> = (1..=7).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = paging(3, cursor)
                .in_memory(items.clone(), |i| *i, false)
                .unwrap();
            seen.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn a_descending_list_pages_downwards() {
        let items: Vec<i64> = (1..=5).rev().collect();
        let (first, next) = paging(2, None)
            .in_memory(items.clone(), |i| *i, true)
            .unwrap();
        assert_eq!(first, vec![5, 4]);
        let (second, _) = paging(2, next).in_memory(items, |i| *i, true).unwrap();
        assert_eq!(second, vec![3, 2]);
    }

    #[test]
    fn a_foreign_cursor_is_refused_on_its_field() {
        let error = paging(2, Some("not a cursor".into()))
            .after::<i64>()
            .err()
            .unwrap();
        assert_eq!(
            (error.code, error.field.as_deref()),
            ("invalid_cursor", Some("cursor"))
        );
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let params = serde_urlencoded_params("limit=5&cursor=ab%2Dc&x=1").unwrap();
        assert_eq!(params.limit.as_deref(), Some("5"));
        assert_eq!(params.cursor.as_deref(), Some("ab-c"));
    }
}
