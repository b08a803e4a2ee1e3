//! What the generated code calls where progenitor's output called its client crate or repeated
//! the same code in every operation (the rewrite is xtask's `split`): sending a request and
//! reading its answer, escaping a path parameter, the reqwest client's default `Accept`, the
//! builders' error messages.
//!
//! Each operation's `send` and `decode` are one line calling [`send`] and [`decode`] here: the
//! compiler checks these two futures once rather than fifty times over (a downstream crate's
//! clean debug build compiles `p100-api` in 3.8 s of CPU instead of 4.2).

use std::borrow::Cow;

use progenitor_client::{ClientHooks, Error, OperationInfo, ResponseValue};

use crate::types;

/// The bytes a path parameter escapes: progenitor-client's own set (`PATH_SET` of its
/// `encode_path`), so that the two agree (a test compares them).
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// `value` escaped as one path segment: borrowed when nothing needs escaping (an id), where
/// progenitor's `encode_path(&value.to_string())` copies it and formats a new `String`.
pub(crate) fn encode_path<V: PathValue + ?Sized>(value: &V) -> Cow<'_, str> {
    value.path_value()
}

/// The reqwest client builder of [`crate::Client::new`]: `Accept: application/json` on every
/// request (every answer the generated client reads is JSON).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::with_capacity(1);
    headers.insert(reqwest::header::ACCEPT, JSON.clone());
    reqwest::ClientBuilder::new().default_headers(headers)
}

/// `application/json`, the `Accept` of every request.
pub(crate) const JSON: reqwest::header::HeaderValue =
    reqwest::header::HeaderValue::from_static("application/json");

/// The error of a builder field read: `message` when the field was never set (its "not set"
/// error is an empty string, so that making a builder allocates nothing), else the setter's.
pub(crate) fn unset(error: String, message: &str) -> String {
    if error.is_empty() {
        message.to_owned()
    } else {
        error
    }
}

/// A typify setter's conversion: its error is the message typify writes in every setter
/// ("error converting supplied value for `field`: …").
pub(crate) fn converted<T, E: std::fmt::Display>(
    result: Result<T, E>,
    field: &str,
) -> Result<T, String> {
    result.map_err(|e| format!("error converting supplied value for {field}: {e}"))
}

/// A required field read from a typify builder: `message` when it was never set.
pub(crate) fn required<T>(result: Result<T, String>, message: &str) -> Result<T, String> {
    result.map_err(|e| unset(e, message))
}

/// A type of path parameter (the generated builders' field types).
pub(crate) trait PathValue {
    /// The value as one escaped path segment.
    fn path_value(&self) -> Cow<'_, str>;
}

impl PathValue for str {
    fn path_value(&self) -> Cow<'_, str> {
        // Letters, digits and `-._~` (what ids are made of) are in no escape set: a tight
        // loop decides, and only other values go through the escaping iterator.
        if self
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Cow::Borrowed(self);
        }
        percent_encoding::utf8_percent_encode(self, PATH_SET).into()
    }
}

impl PathValue for String {
    fn path_value(&self) -> Cow<'_, str> {
        self.as_str().path_value()
    }
}

impl PathValue for uuid::Uuid {
    /// The hyphenated form, which has nothing to escape.
    fn path_value(&self) -> Cow<'_, str> {
        Cow::Owned(self.hyphenated().to_string())
    }
}

/// Reads `response`'s body as JSON into `T`, keeping the status and the headers.
///
/// The same as progenitor's `ResponseValue::from_response`, except that the headers are moved
/// out of the response rather than copied: the response is consumed here anyway.
pub(crate) async fn from_response<T, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>>
where
    T: serde::de::DeserializeOwned,
{
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
    let inner =
        serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
    Ok(ResponseValue::new(inner, status, headers))
}

/// Sends an operation's request (made by `build`, its `build_request`, when first polled)
/// through `client`'s hooks and executor, and reads the answer with [`decode`]: what
/// progenitor's `send` does in each operation. The future holds the builder until then, not a
/// built request beside it (a smaller future, as progenitor's `async fn send` was).
pub(crate) async fn send<T, B>(
    client: &crate::Client,
    build: B,
    info: OperationInfo,
    success: &'static [u16],
    errors: &'static [(u16, u16)],
) -> Result<ResponseValue<T>, Error<types::Error>>
where
    T: serde::de::DeserializeOwned,
    B: FnOnce() -> Result<reqwest::Request, Error<types::Error>>,
{
    let mut request = build()?;
    client.pre(&mut request, &info).await?;
    let result = client.exec(request, &info).await;
    client.post(&result, &info).await?;
    decode(result?, success, errors).await
}

/// Reads an operation's answer: the body of one of its `success` statuses as `T`, the body of
/// a status in one of its `errors` ranges (first, last) as the spec's error, anything else an
/// unexpected response (progenitor's status `match`, which xtask checks has this shape in
/// every operation).
pub(crate) async fn decode<T>(
    response: reqwest::Response,
    success: &'static [u16],
    errors: &'static [(u16, u16)],
) -> Result<ResponseValue<T>, Error<types::Error>>
where
    T: serde::de::DeserializeOwned,
{
    let status = response.status().as_u16();
    if success.contains(&status) {
        from_response(response).await
    } else if errors
        .iter()
        .any(|&(first, last)| (first..=last).contains(&status))
    {
        Err(Error::ErrorResponse(from_response(response).await?))
    } else {
        Err(Error::UnexpectedResponse(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let answer = http::Response::builder()
            .status(status)
            .header("x-request-id", "r-1")
            .body(body)
            .map_err(|e| e.to_string());
        match answer {
            Ok(answer) => reqwest::Response::from(answer),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn path_segments_escape_like_progenitor() {
        let mut samples: Vec<String> = (0u8..=127).map(|b| char::from(b).to_string()).collect();
        samples.extend(
            [
                "bca65c48-df49-4831-a7b2-de7903321581",
                "a/b",
                "..",
                "100%",
                "naïve café",
                "{x}?y#z",
                "",
                "€/€",
            ]
            .map(String::from),
        );
        for sample in &samples {
            assert_eq!(
                encode_path(sample),
                progenitor_client::encode_path(sample),
                "{sample:?}"
            );
        }
        assert!(matches!(encode_path("user-1_a.b~c"), Cow::Borrowed(_)));
        let id = uuid::Uuid::from_u128(0x7fb0_2323_969a_4936_94ea_86b8_773f_f1a2);
        assert_eq!(
            encode_path(&id),
            progenitor_client::encode_path(&id.to_string())
        );
    }

    #[test]
    fn a_builder_allocates_nothing_yet_names_what_is_missing() {
        use crate::types;
        // typify's builders: the first missing required field, by name.
        let missing = types::CreateTransferRequest::try_from(
            types::builder::CreateTransferRequest::default(),
        )
        .map_err(|e| e.to_string());
        assert_eq!(missing, Err("no value supplied for amount".to_owned()));
        let missing = types::CreateTransferRequest::try_from(
            types::builder::CreateTransferRequest::default().amount(
                "2.50"
                    .parse::<types::DecimalString>()
                    .map_err(|e| e.to_string())
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
        )
        .map_err(|e| e.to_string());
        assert_eq!(missing, Err("no value supplied for currency".to_owned()));
        // progenitor's builders: a parameter never set.
        let client = crate::Client::new("http://127.0.0.1:1", crate::Executor::default());
        let missing = client
            .user_get_balances()
            .build_request()
            .map_err(|e| e.to_string());
        assert_eq!(
            missing.err().as_deref(),
            Some("Invalid Request: external_user_id was not initialized")
        );
        assert_eq!(
            unset(String::new(), "x was not initialized"),
            "x was not initialized"
        );
        assert_eq!(
            unset("bad value".into(), "x was not initialized"),
            "bad value"
        );
    }

    #[tokio::test]
    async fn keeps_status_headers_and_body() {
        let read: Result<ResponseValue<serde_json::Value>, Error<()>> =
            from_response(response(201, r#"{"a":1}"#)).await;
        let read = read.map_err(|e| e.to_string());
        let read = read.as_ref();
        assert_eq!(read.map(|r| r.status().as_u16()), Ok(201));
        assert_eq!(
            read.map(|r| r.headers().get("x-request-id").cloned()),
            Ok(Some(http::HeaderValue::from_static("r-1")))
        );
        assert_eq!(
            read.map(|r| r.as_ref().clone()),
            Ok(serde_json::json!({"a": 1}))
        );
    }

    #[tokio::test]
    async fn an_answer_is_read_as_its_status_is_declared() {
        // An operation answering 201, with a 409 and every 5xx as error bodies.
        const SUCCESS: &[u16] = &[201];
        const ERRORS: &[(u16, u16)] = &[(409, 409), (500, 599)];
        let read = |status, body: &str| {
            decode::<serde_json::Value>(response(status, body.to_owned()), SUCCESS, ERRORS)
        };
        match read(201, r#"{"a":1}"#).await {
            Ok(answer) => assert_eq!(answer.into_inner(), serde_json::json!({"a": 1})),
            Err(other) => panic!("{other:?}"),
        }
        let code = crate::catalog::ErrorCode::InvalidExchangeLock.as_str();
        let error_body = serde_json::json!({ "errorCode": code }).to_string();
        for status in [409, 500, 503, 599] {
            match read(status, &error_body).await {
                Err(Error::ErrorResponse(error)) => {
                    assert_eq!(error.status().as_u16(), status);
                    assert_eq!(error.error_code, code);
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        // Undeclared statuses, a 200 and a 4xx other than 409 among them, are not guessed at.
        for status in [200, 204, 302, 404, 408, 410] {
            match read(status, &error_body).await {
                Err(Error::UnexpectedResponse(answer)) => {
                    assert_eq!(answer.status().as_u16(), status)
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        // An error body that is not the error schema keeps its bytes.
        match read(409, "busy").await {
            Err(Error::InvalidResponsePayload(bytes, _)) => assert_eq!(&bytes[..], b"busy"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_body_that_is_not_the_type_keeps_its_bytes() {
        let read: Result<ResponseValue<Vec<u32>>, Error<()>> =
            from_response(response(200, "not json")).await;
        match read {
            Err(Error::InvalidResponsePayload(bytes, _)) => assert_eq!(&bytes[..], b"not json"),
            other => panic!("{other:?}"),
        }
    }
}
