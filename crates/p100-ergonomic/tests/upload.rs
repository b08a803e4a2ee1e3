//! KYC and POA uploads: the exact multipart bodies on the wire, P100's answers, and every
//! upload rule rejected with its message before anything is sent.

mod support;

use p100_ergonomic::upload::{
    KycDocument, KycSide, UploadFile, UploadKind, POA_CONTENT_TYPES, POA_MAX_FILES,
    POA_MAX_FILE_SIZE,
};
use p100_ergonomic::{ErrorCode, ErrorKind, PoaFilesUploaded, RetryPolicy, UploadError, UploadExt};
use support::{client, Reply, ScriptServer, KEY};

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0jpeg-bytes";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\npng-bytes";
const PDF: &[u8] = b"%PDF-1.7 pdf-bytes";

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> String {
    let (kind, boundary) = content_type
        .split_once("; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"));
    assert_eq!(kind, "multipart/form-data");
    boundary.to_string()
}

/// The body an upload must produce: one `files` part per file, in order.
fn expected_body(boundary: &str, files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn poa_upload_sends_the_exact_multipart_body() {
    let server = ScriptServer::start(vec![Reply::json(201, "{}")]).await;
    let client = client(&server.url(), RetryPolicy::default());

    let answer = client
        .user_add_poa_files()
        .external_user_id("f47ac10b-58cc-4372-a567-0e02b2c3d479")
        .file(UploadFile::new("bill.pdf", PDF))
        .file(UploadFile::new("statement.png", PNG))
        .send()
        .await
        .expect("uploaded");

    assert_eq!(
        answer,
        PoaFilesUploaded::Created(p100_ergonomic::types::PoaFilesAdded::default())
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/v1/user/poa-files/f47ac10b-58cc-4372-a567-0e02b2c3d479"
    );
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("accept"), Some("application/json"));
    let content_type = request.header("content-type").expect("content type");
    let boundary = boundary(content_type);
    assert_eq!(
        request.body,
        expected_body(
            &boundary,
            &[
                ("bill.pdf", "application/pdf", PDF),
                ("statement.png", "image/png", PNG)
            ]
        ),
        "got:\n{}",
        String::from_utf8_lossy(&request.body)
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn file_names_cannot_break_out_of_their_header() {
    let server = ScriptServer::start(vec![Reply::json(201, "{}")]).await;
    let client = client(&server.url(), RetryPolicy::default());

    client
        .user_add_poa_files()
        .external_user_id("u1")
        .file(UploadFile::new("a\"b\r\nContent-Type: text/html.pdf", PDF))
        .file(UploadFile::new(r"C:\scans\bill ä.pdf", PDF))
        .send()
        .await
        .expect("uploaded");

    let requests = server.requests();
    let boundary = boundary(requests[0].header("content-type").expect("content type"));
    // As browsers send form data: the quote, CR and LF percent-encoded, the rest as given.
    assert_eq!(
        requests[0].body,
        expected_body(
            &boundary,
            &[
                (
                    "a%22b%0D%0AContent-Type: text/html.pdf",
                    "application/pdf",
                    PDF
                ),
                (r"C:\scans\bill ä.pdf", "application/pdf", PDF),
            ]
        ),
        "got:\n{}",
        String::from_utf8_lossy(&requests[0].body)
    );
}

#[tokio::test]
async fn kyc_upload_sends_front_back_selfie_in_order() {
    let server = ScriptServer::start(vec![Reply::json(200, r#"{"status":"ADDED"}"#)]).await;
    let client = client(&server.url(), RetryPolicy::default());

    let answer = client
        .user_add_kyc_files()
        .external_user_id("user 1/ä")
        .document_type(KycDocument::IdCard)
        // Set out of order: the upload still sends front, back, selfie.
        .selfie(UploadFile::new("me.jpg", JPEG))
        .back(UploadFile::new("back.png", PNG))
        .front(UploadFile::new("front.jpg", JPEG))
        .require_complete(true)
        .send()
        .await
        .expect("uploaded");

    assert_eq!(
        answer
            .get::<String>("status")
            .and_then(Result::ok)
            .as_deref(),
        Some("ADDED")
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/user/kyc-files/user%201%2F%C3%A4");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    let boundary = boundary(request.header("content-type").expect("content type"));
    assert_eq!(
        request.body,
        expected_body(
            &boundary,
            &[
                ("front.jpg", "image/jpeg", JPEG),
                ("back.png", "image/png", PNG),
                ("me.jpg", "image/jpeg", JPEG),
            ]
        ),
        "got:\n{}",
        String::from_utf8_lossy(&request.body)
    );
}

#[tokio::test]
async fn passport_upload_and_missing_files_one_by_one() {
    let server = ScriptServer::start(vec![Reply::json(200, ""), Reply::json(200, "{}")]).await;
    let client = client(&server.url(), RetryPolicy::default());

    // Photo page first, the selfie later: both allowed without `require_complete`.
    client
        .user_add_kyc_files()
        .external_user_id("u1")
        .document_type(KycDocument::Passport)
        .front(UploadFile::new("passport.jpg", JPEG))
        .send()
        .await
        .expect("photo page uploaded");
    // Through the generated client, with the extension trait.
    client
        .raw()
        .user_add_kyc_files()
        .external_user_id("u1")
        .document_type(KycDocument::Passport)
        .selfie(UploadFile::new("selfie.jpg", JPEG).with_content_type("image/jpeg"))
        .send()
        .await
        .expect("selfie uploaded");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, name) in requests.iter().zip(["passport.jpg", "selfie.jpg"]) {
        let boundary = boundary(request.header("content-type").expect("content type"));
        assert_eq!(
            request.body,
            expected_body(&boundary, &[(name, "image/jpeg", JPEG)])
        );
        assert_eq!(request.header("x-api-key"), Some(KEY));
    }
}

#[tokio::test]
async fn poa_answers() {
    let server = ScriptServer::start(vec![
        Reply::json(
            202,
            r#"{"errorCode":"P211","errorName":"poa-pending","errorMessage":"POA pending"}"#,
        ),
        Reply::json(
            400,
            r#"{"errorCode":"P426","errorName":"invalid-file-type"}"#,
        ),
        Reply::json(
            404,
            r#"{"errorCode":"P460","errorMessage":"POA verification not found"}"#,
        ),
        Reply::text(201, "not json"),
        Reply::text(202, "POA pending"),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::default());
    let upload = || {
        client
            .user_add_poa_files()
            .external_user_id("u1")
            .file(UploadFile::new("bill.pdf", PDF))
    };

    let pending = upload().send().await.expect("202 is not an error");
    assert_eq!(
        pending,
        PoaFilesUploaded::Pending {
            code: Some(ErrorCode::PoaPending),
            message: Some("POA pending".to_string()),
        }
    );

    let invalid = upload().send().await.expect_err("400");
    assert_eq!(invalid.code(), Some(&ErrorCode::InvalidFileType));
    assert_eq!(invalid.operation(), Some("user_add_poa_files"));
    assert_eq!(invalid.attempts(), 1);

    let missing = upload().send().await.expect_err("404");
    assert!(missing.is_not_found());
    assert_eq!(missing.code(), Some(&ErrorCode::PoaVerificationNotFound));

    let undecodable = upload().send().await.expect_err("not JSON");
    assert_eq!(undecodable.kind(), ErrorKind::Decode);
    assert_eq!(undecodable.body(), Some(&b"not json"[..]));

    let pending_as_text = upload().send().await.expect("202 is not an error");
    assert_eq!(
        pending_as_text,
        PoaFilesUploaded::Pending {
            code: None,
            message: Some("POA pending".to_string()),
        }
    );
}

#[tokio::test(start_paused = true)]
async fn uploads_are_never_retried() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "unavailable"),
        Reply::Close,
        Reply::json(201, "{}"),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::default());

    let unavailable = client
        .user_add_poa_files()
        .external_user_id("u1")
        .file(UploadFile::new("bill.pdf", PDF))
        .send()
        .await
        .expect_err("503 returned");
    assert_eq!(unavailable.status().map(|s| s.as_u16()), Some(503));
    // An upload changes state: after a 503 it may have been taken, so the SDK does not call it
    // retryable (the caller checks the verification status first).
    assert!(unavailable.may_have_executed());
    assert!(!unavailable.is_retryable());

    let reset = client
        .user_add_kyc_files()
        .external_user_id("u1")
        .document_type(KycDocument::IdCard)
        .front(UploadFile::new("front.jpg", JPEG))
        .send()
        .await
        .expect_err("reset returned");
    assert_eq!(reset.kind(), ErrorKind::Transport);
    assert_eq!(reset.attempts(), 1);

    assert_eq!(server.requests().len(), 2);
}

/// Checks that `upload` is refused with `expected` and sends nothing.
async fn refused(
    send: impl std::future::Future<Output = Result<(), p100_ergonomic::Error>>,
    server: &ScriptServer,
    expected: UploadError,
    message: &str,
) {
    let error = send.await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidUpload);
    assert_eq!(error.upload_error(), Some(&expected));
    assert_eq!(error.to_string(), message);
    assert!(server.requests().is_empty(), "sent although refused");
}

#[tokio::test]
async fn every_poa_rule_is_enforced_before_sending() {
    let server = ScriptServer::start(vec![]).await;
    let client = client(&server.url(), RetryPolicy::default());
    let poa = |files: Vec<UploadFile>| {
        let upload = client
            .user_add_poa_files()
            .external_user_id("u1")
            .files(files);
        async move { upload.send().await.map(|_| ()) }
    };

    refused(
        poa(vec![]),
        &server,
        UploadError::NoFiles {
            upload: UploadKind::Poa,
            hint: "add 1 to 3 proof-of-address documents",
        },
        "POA upload has no file: add 1 to 3 proof-of-address documents",
    )
    .await;
    refused(
        poa(vec![UploadFile::new("a.pdf", PDF); 4]),
        &server,
        UploadError::TooManyFiles { count: 4, max: 3 },
        "POA upload has 4 files: P100 accepts at most 3 per request",
    )
    .await;
    let too_large = [PDF, &vec![0u8; POA_MAX_FILE_SIZE as usize + 1 - PDF.len()]].concat();
    refused(
        poa(vec![
            UploadFile::new("ok.pdf", PDF),
            UploadFile::new("huge.pdf", too_large),
        ]),
        &server,
        UploadError::FileTooLarge {
            file: "huge.pdf".into(),
            size: 5_242_881,
            max: 5_242_880,
        },
        "POA file \"huge.pdf\" is 5242881 bytes: P100 accepts at most 5242880 bytes (5 MB) per file",
    )
    .await;
    refused(
        poa(vec![UploadFile::new("photo.gif", b"GIF89a...".to_vec())]),
        &server,
        UploadError::UnsupportedFileType {
            file: "photo.gif".into(),
            content_type: "image/gif".into(),
        },
        "POA file \"photo.gif\" has type image/gif: P100 accepts image/jpeg, image/png or \
         application/pdf",
    )
    .await;
    refused(
        poa(vec![
            UploadFile::new("notes.txt", b"hello".to_vec()).with_content_type("text/plain")
        ]),
        &server,
        UploadError::UnsupportedFileType {
            file: "notes.txt".into(),
            content_type: "text/plain".into(),
        },
        "POA file \"notes.txt\" has type text/plain: P100 accepts image/jpeg, image/png or \
         application/pdf",
    )
    .await;
    refused(
        poa(vec![UploadFile::new("empty.pdf", Vec::new())]),
        &server,
        UploadError::EmptyFile {
            upload: UploadKind::Poa,
            file: "empty.pdf".into(),
        },
        "POA file \"empty.pdf\" is empty",
    )
    .await;
}

#[tokio::test]
async fn poa_limits_are_inclusive() {
    let exactly_5_mb = [PDF, &vec![0u8; POA_MAX_FILE_SIZE as usize - PDF.len()]].concat();
    let client = client("http://127.0.0.1:9", RetryPolicy::default());
    let upload = client.user_add_poa_files().external_user_id("u1").files([
        UploadFile::new("a.pdf", exactly_5_mb),
        UploadFile::new("b.jpg", JPEG),
        UploadFile::new("c", b"x".to_vec()).with_content_type("image/jpg"),
    ]);
    assert_eq!(upload.check(), Ok(()));
}

#[tokio::test]
async fn every_kyc_rule_is_enforced_before_sending() {
    let server = ScriptServer::start(vec![]).await;
    let client = client(&server.url(), RetryPolicy::default());
    let kyc = || client.user_add_kyc_files().external_user_id("u1");
    let jpeg = |name: &str| UploadFile::new(name, JPEG);

    refused(
        async { kyc().front(jpeg("f.jpg")).send().await.map(|_| ()) },
        &server,
        UploadError::MissingDocumentType,
        "KYC upload has no document type: call `.document_type(..)` with ID_CARD, \
         RESIDENCE_PERMIT or PASSPORT",
    )
    .await;
    refused(
        async {
            kyc()
                .document_type(KycDocument::ResidencePermit)
                .send()
                .await
                .map(|_| ())
        },
        &server,
        UploadError::NoFiles {
            upload: UploadKind::Kyc,
            hint: "a front photo, a back photo and a selfie",
        },
        "KYC upload has no file: a front photo, a back photo and a selfie",
    )
    .await;
    refused(
        async {
            kyc()
                .document_type(KycDocument::Passport)
                .front(jpeg("p.jpg"))
                .back(jpeg("b.jpg"))
                .send()
                .await
                .map(|_| ())
        },
        &server,
        UploadError::SideNotAccepted {
            document: KycDocument::Passport,
            side: KycSide::Back,
        },
        "KYC upload for document type PASSPORT cannot carry a back photo: PASSPORT needs one \
         photo of its photo page (the front) and a selfie",
    )
    .await;
    refused(
        async {
            kyc()
                .document_type(KycDocument::IdCard)
                .back(jpeg("b.jpg"))
                .require_complete(true)
                .send()
                .await
                .map(|_| ())
        },
        &server,
        UploadError::MissingSides {
            document: KycDocument::IdCard,
            missing: vec![KycSide::Front, KycSide::Selfie],
        },
        "KYC upload for document type ID_CARD lacks the front photo and selfie: ID_CARD needs \
         a front photo, a back photo and a selfie",
    )
    .await;
    refused(
        async {
            kyc()
                .document_type(KycDocument::IdCard)
                .front(UploadFile::new("f.jpg", Vec::new()))
                .send()
                .await
                .map(|_| ())
        },
        &server,
        UploadError::EmptyFile {
            upload: UploadKind::Kyc,
            file: "f.jpg".into(),
        },
        "KYC file \"f.jpg\" is empty",
    )
    .await;
    refused(
        async {
            kyc()
                .document_type(KycDocument::IdCard)
                .front(jpeg("f.jpg").with_content_type("not a type"))
                .send()
                .await
                .map(|_| ())
        },
        &server,
        UploadError::InvalidContentType {
            upload: UploadKind::Kyc,
            file: "f.jpg".into(),
            content_type: "not a type".into(),
        },
        "KYC file \"f.jpg\" has an invalid content type \"not a type\"",
    )
    .await;
}

#[tokio::test]
async fn the_user_id_is_required() {
    let server = ScriptServer::start(vec![]).await;
    let client = client(&server.url(), RetryPolicy::default());

    let missing = client
        .user_add_poa_files()
        .file(UploadFile::new("a.pdf", PDF))
        .send()
        .await
        .expect_err("no user");
    let empty = client
        .user_add_kyc_files()
        .external_user_id(" ")
        .document_type(KycDocument::IdCard)
        .front(UploadFile::new("f.jpg", JPEG))
        .send()
        .await
        .expect_err("empty user");

    assert_eq!(missing.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        missing.to_string(),
        "invalid request: external_user_id was not initialized"
    );
    assert_eq!(
        empty.to_string(),
        "invalid request: external_user_id is empty"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn content_types_are_recognised() {
    // From the bytes, whatever the name says.
    assert_eq!(
        UploadFile::new("scan.jpg", PDF).content_type(),
        "application/pdf"
    );
    assert_eq!(UploadFile::new("x", PNG).content_type(), "image/png");
    assert_eq!(UploadFile::new("x", JPEG).content_type(), "image/jpeg");
    // Else from the extension.
    assert_eq!(
        UploadFile::new("a.JPEG", b"?".to_vec()).content_type(),
        "image/jpeg"
    );
    assert_eq!(
        UploadFile::new("a.heic", b"?".to_vec()).content_type(),
        "image/heic"
    );
    // Else unknown.
    assert_eq!(
        UploadFile::new("a", b"?".to_vec()).content_type(),
        "application/octet-stream"
    );
    // A type you set wins.
    assert_eq!(
        UploadFile::new("a.pdf", PDF)
            .with_content_type("image/jpg")
            .content_type(),
        "image/jpg"
    );
    // Debug shows no bytes.
    let debug = format!("{:?}", UploadFile::new("a.pdf", PDF));
    assert!(!debug.contains("pdf-bytes"), "{debug}");
}

#[tokio::test]
async fn files_are_read_from_disk() {
    let dir = std::env::temp_dir().join(format!("p100-upload-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bill.pdf");
    std::fs::write(&path, PDF).expect("write");

    let file = UploadFile::from_path(&path).await.expect("read");
    let missing = UploadFile::from_path(dir.join("missing.pdf")).await;
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(file.file_name(), "bill.pdf");
    assert_eq!(file.bytes().as_ref(), PDF);
    assert_eq!(file.content_type(), "application/pdf");
    assert!(missing.is_err());
}

/// The POA rules in the SDK are the ones the docs state (Add POA File, request body).
#[test]
fn poa_rules_match_the_facts() {
    let page = support::fact("user-onboarding.yaml", "Add POA File");
    let fields = page["request_body"]["fields"]
        .as_sequence()
        .expect("fields");
    let files = fields
        .iter()
        .find(|f| f["name"].as_str() == Some("files"))
        .expect("the files part");
    assert_eq!(
        page["request_body"]["content_type"].as_str(),
        Some("multipart/form-data")
    );
    assert_eq!(files["max_count"].as_u64(), Some(POA_MAX_FILES as u64));
    assert_eq!(files["max_size"].as_str(), Some("5MB each"));
    assert_eq!(POA_MAX_FILE_SIZE, 5 * 1024 * 1024);
    let allowed: Vec<&str> = files["allowed_mime"]
        .as_sequence()
        .expect("allowed_mime")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert_eq!(allowed, POA_CONTENT_TYPES);
}

/// The KYC rules in the SDK are the ones the docs state (module overview table).
#[test]
fn kyc_rules_match_the_facts() {
    let overview = support::fact(
        "user-onboarding.yaml",
        "User Operations (module overview) / Onboarding & KYC Flow",
    );
    let table = overview["kyc_file_requirements"]
        .as_sequence()
        .expect("kyc_file_requirements");
    assert_eq!(table.len(), 3);
    for row in table {
        let document = match row["documentType"].as_str() {
            Some("ID_CARD") => KycDocument::IdCard,
            Some("RESIDENCE_PERMIT") => KycDocument::ResidencePermit,
            Some("PASSPORT") => KycDocument::Passport,
            other => panic!("undocumented document type {other:?}"),
        };
        let files: Vec<KycSide> = row["files"]
            .as_sequence()
            .expect("files")
            .iter()
            .map(|f| match f.as_str() {
                Some("front") | Some("document photo") => KycSide::Front,
                Some("back") => KycSide::Back,
                Some("selfie") => KycSide::Selfie,
                other => panic!("undocumented file {other:?}"),
            })
            .collect();
        assert_eq!(document.required_sides(), files.as_slice(), "{document}");
        let generated: p100_ergonomic::types::KycDocumentType = document.into();
        assert_eq!(generated.as_str(), document.as_str());
    }
}
