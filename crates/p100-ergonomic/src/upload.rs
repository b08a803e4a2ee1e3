//! The two `multipart/form-data` operations the generator cannot produce: Add KYC File
//! (`user_add_kyc_files`) and Add POA File (`user_add_poa_files`).
//!
//! They are builders like the generated operations (setters, then `send()`), reachable from
//! [`Client`](crate::Client) and, through [`UploadExt`], from the generated client. They go
//! through the same executor as every generated operation: API key, timeout, tracing. Being
//! POSTs, they are never retried.
//!
//! Before anything is sent, the files are checked against P100's documented rules, and a broken
//! rule is reported as an [`UploadError`] that names the file and the rule:
//!
//! - POA: 1 to 3 files, each at most 5 MB, of type `image/jpeg`, `image/png` (or `image/jpg`)
//!   or `application/pdf`, all in one request.
//! - KYC: an `ID_CARD` or `RESIDENCE_PERMIT` needs a front photo, a back photo and a selfie; a
//!   `PASSPORT` one photo page (sent as the front) and a selfie. Missing files may be sent one by
//!   one in later requests, unless [`KycFilesUpload::require_complete`] asks for all at once.
//!
//! Part names follow `spec/p100.yaml`: every file is a `files` part (for KYC the spec marks the
//! name as assumed: P100 never documented it), in the order front, back, selfie.

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use p100_api::ClientInfo;
use reqwest::StatusCode;
use url::Url;

use crate::client::RawAnswer;
use crate::error::{ApiError, Error, ErrorCode};
use crate::types;

/// The multipart part name of every uploaded file (spec: `PoaFilesUpload`, `KycFilesUpload`).
const FILES_PART: &str = "files";

/// The largest POA file P100 accepts: 5 MB, read as 5 × 1024 × 1024 bytes.
pub const POA_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// The most POA files one request may carry.
pub const POA_MAX_FILES: usize = 3;

/// The content types P100 accepts for POA files.
pub const POA_CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/jpg", "application/pdf"];

/// A file to upload: its name, its bytes and its content type.
///
/// The content type is the one you set, or else recognised from the bytes (JPEG, PNG, PDF), or
/// else from the file name's extension, or else `application/octet-stream`.
///
/// ```
/// use p100_ergonomic::upload::UploadFile;
///
/// let scan = UploadFile::new("utility-bill.pdf", b"%PDF-1.7 ...".to_vec());
/// assert_eq!(scan.content_type(), "application/pdf");
/// assert_eq!(scan.len(), 12);
/// ```
#[derive(Clone)]
pub struct UploadFile {
    file_name: String,
    content_type: Option<String>,
    bytes: Bytes,
}

impl UploadFile {
    /// A file named `file_name` (the name P100 receives) with these bytes.
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        UploadFile {
            file_name: file_name.into(),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    /// Reads a file from disk (on a blocking thread); its name is the path's last component.
    pub async fn from_path(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(std::io::Error::other)??;
        Ok(UploadFile::new(file_name, bytes))
    }

    /// Sets the content type instead of recognising it.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The name P100 receives.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type sent with the file.
    pub fn content_type(&self) -> &str {
        self.content_type
            .as_deref()
            .or_else(|| sniff(&self.bytes))
            .or_else(|| from_extension(&self.file_name))
            .unwrap_or("application/octet-stream")
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the file has no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type())
            .field("len", &self.len())
            .finish()
    }
}

fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

fn from_extension(file_name: &str) -> Option<&'static str> {
    let (_, extension) = file_name.rsplit_once('.')?;
    match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "pdf" => Some("application/pdf"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "heic" => Some("image/heic"),
        "tif" | "tiff" => Some("image/tiff"),
        _ => None,
    }
}

/// `image/JPEG; x=y` → `image/jpeg`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Which upload a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadKind {
    /// Add KYC File.
    Kyc,
    /// Add POA File.
    Poa,
}

impl fmt::Display for UploadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UploadKind::Kyc => "KYC",
            UploadKind::Poa => "POA",
        })
    }
}

/// The identity document whose photos a KYC upload carries (Method A accepts these three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KycDocument {
    /// `ID_CARD`: front photo, back photo, selfie.
    IdCard,
    /// `RESIDENCE_PERMIT`: front photo, back photo, selfie.
    ResidencePermit,
    /// `PASSPORT`: the photo page (sent as the front) and a selfie.
    Passport,
}

impl KycDocument {
    /// The document type as P100 spells it (`ID_CARD`, `RESIDENCE_PERMIT`, `PASSPORT`).
    pub fn as_str(self) -> &'static str {
        match self {
            KycDocument::IdCard => "ID_CARD",
            KycDocument::ResidencePermit => "RESIDENCE_PERMIT",
            KycDocument::Passport => "PASSPORT",
        }
    }

    /// The photos P100 needs for this document, in upload order.
    pub fn required_sides(self) -> &'static [KycSide] {
        match self {
            KycDocument::IdCard | KycDocument::ResidencePermit => {
                &[KycSide::Front, KycSide::Back, KycSide::Selfie]
            }
            KycDocument::Passport => &[KycSide::Front, KycSide::Selfie],
        }
    }
}

impl From<KycDocument> for types::KycDocumentType {
    /// The same document type as Method B (Creating KYC Verification) names it.
    fn from(document: KycDocument) -> Self {
        match document {
            KycDocument::IdCard => types::KycDocumentType::IdCard,
            KycDocument::ResidencePermit => types::KycDocumentType::ResidencePermit,
            KycDocument::Passport => types::KycDocumentType::Passport,
        }
    }
}

impl fmt::Display for KycDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One photo of a KYC upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KycSide {
    /// The front of the document (for a passport: its photo page).
    Front,
    /// The back of the document.
    Back,
    /// A selfie of the user.
    Selfie,
}

impl fmt::Display for KycSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KycSide::Front => "front photo",
            KycSide::Back => "back photo",
            KycSide::Selfie => "selfie",
        })
    }
}

/// An upload that breaks one of P100's file rules; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The request carries no file.
    #[error("{upload} upload has no file: {hint}")]
    NoFiles {
        /// Which upload.
        upload: UploadKind,
        /// What to add.
        hint: &'static str,
    },
    /// More POA files than one request may carry.
    #[error("POA upload has {count} files: P100 accepts at most {max} per request")]
    TooManyFiles {
        /// Files given.
        count: usize,
        /// Files allowed.
        max: usize,
    },
    /// A file without bytes.
    #[error("{upload} file {file:?} is empty")]
    EmptyFile {
        /// Which upload.
        upload: UploadKind,
        /// The file's name.
        file: String,
    },
    /// A POA file above the size limit.
    #[error("POA file {file:?} is {size} bytes: P100 accepts at most {max} bytes (5 MB) per file")]
    FileTooLarge {
        /// The file's name.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// A POA file of a type P100 does not accept.
    #[error(
        "POA file {file:?} has type {content_type}: P100 accepts image/jpeg, image/png or \
         application/pdf"
    )]
    UnsupportedFileType {
        /// The file's name.
        file: String,
        /// Its content type.
        content_type: String,
    },
    /// A content type that is not a valid MIME type.
    #[error("{upload} file {file:?} has an invalid content type {content_type:?}")]
    InvalidContentType {
        /// Which upload.
        upload: UploadKind,
        /// The file's name.
        file: String,
        /// The content type given.
        content_type: String,
    },
    /// A KYC upload without its document type.
    #[error(
        "KYC upload has no document type: call `.document_type(..)` with ID_CARD, \
         RESIDENCE_PERMIT or PASSPORT"
    )]
    MissingDocumentType,
    /// A photo the document type does not have (a passport's back).
    #[error(
        "KYC upload for document type {document} cannot carry a {side}: {document} needs {}",
        needs(*.document)
    )]
    SideNotAccepted {
        /// The document type.
        document: KycDocument,
        /// The photo it does not take.
        side: KycSide,
    },
    /// A complete KYC upload that lacks photos.
    #[error(
        "KYC upload for document type {document} lacks the {}: {document} needs {}",
        list(missing),
        needs(*.document)
    )]
    MissingSides {
        /// The document type.
        document: KycDocument,
        /// The photos not given.
        missing: Vec<KycSide>,
    },
}

fn needs(document: KycDocument) -> &'static str {
    match document {
        KycDocument::IdCard | KycDocument::ResidencePermit => {
            "a front photo, a back photo and a selfie"
        }
        KycDocument::Passport => "one photo of its photo page (the front) and a selfie",
    }
}

fn list(sides: &[KycSide]) -> String {
    let names: Vec<String> = sides.iter().map(ToString::to_string).collect();
    names.join(" and ")
}

/// Add KYC File (`POST /v1/user/kyc-files/{externalUserId}`): the photos of a user's identity
/// document and a selfie.
///
/// ```no_run
/// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use p100_ergonomic::upload::{KycDocument, UploadFile};
///
/// client
///     .user_add_kyc_files()
///     .external_user_id("user-1")
///     .document_type(KycDocument::IdCard)
///     .front(UploadFile::from_path("id-front.jpg").await?)
///     .back(UploadFile::from_path("id-back.jpg").await?)
///     .selfie(UploadFile::from_path("selfie.jpg").await?)
///     .send()
///     .await?; // the outcome comes later, via the KYC File Added webhook
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct KycFilesUpload<'a> {
    client: &'a p100_api::Client,
    external_user_id: Result<String, String>,
    document: Option<KycDocument>,
    front: Option<UploadFile>,
    back: Option<UploadFile>,
    selfie: Option<UploadFile>,
    require_complete: bool,
}

impl<'a> KycFilesUpload<'a> {
    /// An empty upload on `client`.
    pub fn new(client: &'a p100_api::Client) -> Self {
        KycFilesUpload {
            client,
            external_user_id: Err("external_user_id was not initialized".to_string()),
            document: None,
            front: None,
            back: None,
            selfie: None,
            require_complete: false,
        }
    }

    /// The partner's id of the user (required).
    pub fn external_user_id<V: TryInto<String>>(mut self, value: V) -> Self {
        self.external_user_id = value
            .try_into()
            .map_err(|_| "conversion to `String` for external_user_id failed".to_string());
        self
    }

    /// The document the photos show (required): it decides which photos are needed.
    pub fn document_type(mut self, document: KycDocument) -> Self {
        self.document = Some(document);
        self
    }

    /// The front of the document (a passport's photo page).
    pub fn front(mut self, file: UploadFile) -> Self {
        self.front = Some(file);
        self
    }

    /// The back of the document (not for a passport).
    pub fn back(mut self, file: UploadFile) -> Self {
        self.back = Some(file);
        self
    }

    /// A selfie of the user.
    pub fn selfie(mut self, file: UploadFile) -> Self {
        self.selfie = Some(file);
        self
    }

    /// Whether every photo the document needs must be in this request (default `false`: P100
    /// accepts missing photos one by one).
    pub fn require_complete(mut self, complete: bool) -> Self {
        self.require_complete = complete;
        self
    }

    fn sides(&self) -> impl Iterator<Item = (KycSide, &UploadFile)> {
        [
            (KycSide::Front, self.front.as_ref()),
            (KycSide::Back, self.back.as_ref()),
            (KycSide::Selfie, self.selfie.as_ref()),
        ]
        .into_iter()
        .filter_map(|(side, file)| file.map(|file| (side, file)))
    }

    /// Checks the files against P100's rules without sending anything.
    pub fn check(&self) -> Result<(), UploadError> {
        let document = self.document.ok_or(UploadError::MissingDocumentType)?;
        let required = document.required_sides();
        if let Some((side, _)) = self.sides().find(|(side, _)| !required.contains(side)) {
            return Err(UploadError::SideNotAccepted { document, side });
        }
        if self.sides().next().is_none() {
            return Err(UploadError::NoFiles {
                upload: UploadKind::Kyc,
                hint: needs(document),
            });
        }
        for (_, file) in self.sides() {
            if file.is_empty() {
                return Err(UploadError::EmptyFile {
                    upload: UploadKind::Kyc,
                    file: file.file_name.clone(),
                });
            }
        }
        if self.require_complete {
            let missing: Vec<KycSide> = required
                .iter()
                .copied()
                .filter(|side| !self.sides().any(|(given, _)| given == *side))
                .collect();
            if !missing.is_empty() {
                return Err(UploadError::MissingSides { document, missing });
            }
        }
        Ok(())
    }

    /// Checks the rules, then sends the files (once: this POST is never retried).
    pub async fn send(self) -> Result<types::KycFilesAdded, Error> {
        let user = checked_user_id(&self.external_user_id)?;
        self.check()?;
        let files: Vec<&UploadFile> = self.sides().map(|(_, file)| file).collect();
        let answer = send_files(
            self.client,
            "user_add_kyc_files",
            &["v1", "user", "kyc-files"],
            user,
            UploadKind::Kyc,
            &files,
        )
        .await?;
        decode_object(answer)
    }
}

/// What P100 answered to Add POA File.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PoaFilesUploaded {
    /// HTTP 201: the files were accepted; the result comes via the POA Verification Status
    /// webhook.
    Created(types::PoaFilesAdded),
    /// HTTP 202 (`P211`, POA pending): a POA verification is already pending.
    Pending {
        /// The code P100 sent, if any (documented: `P211`).
        code: Option<ErrorCode>,
        /// P100's message, if any.
        message: Option<String>,
    },
}

/// Add POA File (`POST /v1/user/poa-files/{externalUserId}`): proof-of-address documents, all
/// in one request.
///
/// ```no_run
/// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use p100_ergonomic::upload::{PoaFilesUploaded, UploadFile};
///
/// let answer = client
///     .user_add_poa_files()
///     .external_user_id("user-1")
///     .file(UploadFile::from_path("utility-bill.pdf").await?)
///     .send()
///     .await?;
/// if let PoaFilesUploaded::Pending { .. } = answer {
///     // a verification is already pending: wait for its webhook
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PoaFilesUpload<'a> {
    client: &'a p100_api::Client,
    external_user_id: Result<String, String>,
    files: Vec<UploadFile>,
}

impl<'a> PoaFilesUpload<'a> {
    /// An empty upload on `client`.
    pub fn new(client: &'a p100_api::Client) -> Self {
        PoaFilesUpload {
            client,
            external_user_id: Err("external_user_id was not initialized".to_string()),
            files: Vec::new(),
        }
    }

    /// The partner's id of the user (required).
    pub fn external_user_id<V: TryInto<String>>(mut self, value: V) -> Self {
        self.external_user_id = value
            .try_into()
            .map_err(|_| "conversion to `String` for external_user_id failed".to_string());
        self
    }

    /// Adds a document (1 to 3 per request).
    pub fn file(mut self, file: UploadFile) -> Self {
        self.files.push(file);
        self
    }

    /// Adds several documents.
    pub fn files(mut self, files: impl IntoIterator<Item = UploadFile>) -> Self {
        self.files.extend(files);
        self
    }

    /// Checks the files against P100's rules without sending anything.
    pub fn check(&self) -> Result<(), UploadError> {
        if self.files.is_empty() {
            return Err(UploadError::NoFiles {
                upload: UploadKind::Poa,
                hint: "add 1 to 3 proof-of-address documents",
            });
        }
        if self.files.len() > POA_MAX_FILES {
            return Err(UploadError::TooManyFiles {
                count: self.files.len(),
                max: POA_MAX_FILES,
            });
        }
        for file in &self.files {
            if file.is_empty() {
                return Err(UploadError::EmptyFile {
                    upload: UploadKind::Poa,
                    file: file.file_name.clone(),
                });
            }
            let size = u64::try_from(file.len()).unwrap_or(u64::MAX);
            if size > POA_MAX_FILE_SIZE {
                return Err(UploadError::FileTooLarge {
                    file: file.file_name.clone(),
                    size,
                    max: POA_MAX_FILE_SIZE,
                });
            }
            let content_type = essence(file.content_type());
            if !POA_CONTENT_TYPES.contains(&content_type.as_str()) {
                return Err(UploadError::UnsupportedFileType {
                    file: file.file_name.clone(),
                    content_type: file.content_type().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Checks the rules, then sends the files (once: this POST is never retried).
    pub async fn send(self) -> Result<PoaFilesUploaded, Error> {
        let user = checked_user_id(&self.external_user_id)?;
        self.check()?;
        let files: Vec<&UploadFile> = self.files.iter().collect();
        let answer = send_files(
            self.client,
            "user_add_poa_files",
            &["v1", "user", "poa-files"],
            user,
            UploadKind::Poa,
            &files,
        )
        .await?;
        if answer.status == StatusCode::ACCEPTED {
            // Documented as "P211: POA pending"; its body was never shown, so read it leniently.
            let pending = ApiError::from_body(answer.status, None, &answer.bytes, answer.record);
            return Ok(PoaFilesUploaded::Pending {
                code: pending.code().cloned(),
                message: pending.message().map(String::from),
            });
        }
        decode_object(answer).map(PoaFilesUploaded::Created)
    }
}

/// The uploads as operations of the generated client: `client.raw().user_add_poa_files()`.
pub trait UploadExt {
    /// Add KYC File (`user_add_kyc_files`).
    fn user_add_kyc_files(&self) -> KycFilesUpload<'_>;
    /// Add POA File (`user_add_poa_files`).
    fn user_add_poa_files(&self) -> PoaFilesUpload<'_>;
}

impl UploadExt for p100_api::Client {
    fn user_add_kyc_files(&self) -> KycFilesUpload<'_> {
        KycFilesUpload::new(self)
    }

    fn user_add_poa_files(&self) -> PoaFilesUpload<'_> {
        PoaFilesUpload::new(self)
    }
}

impl crate::Client {
    /// Add KYC File: uploads identity-document photos and a selfie (see [`KycFilesUpload`]).
    pub fn user_add_kyc_files(&self) -> KycFilesUpload<'_> {
        KycFilesUpload::new(self.raw())
    }

    /// Add POA File: uploads proof-of-address documents (see [`PoaFilesUpload`]).
    pub fn user_add_poa_files(&self) -> PoaFilesUpload<'_> {
        PoaFilesUpload::new(self.raw())
    }
}

fn checked_user_id(user: &Result<String, String>) -> Result<&str, Error> {
    match user {
        Ok(user) if user.trim().is_empty() => {
            Err(Error::invalid_request("external_user_id is empty"))
        }
        Ok(user) => Ok(user),
        Err(message) => Err(Error::invalid_request(message.clone())),
    }
}

async fn send_files(
    client: &p100_api::Client,
    operation: &'static str,
    collection: &[&str],
    user: &str,
    upload: UploadKind,
    files: &[&UploadFile],
) -> Result<RawAnswer, Error> {
    let mut url = Url::parse(client.baseurl())
        .map_err(|e| Error::invalid_request(format!("the client's base URL is invalid: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::invalid_request("the client's base URL cannot take a path"))?
        .pop_if_empty()
        .extend(collection)
        .push(user);

    let form = FormData::of_files(upload, files)?;
    let request = client
        .client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, form.content_type())
        .header(reqwest::header::CONTENT_LENGTH, form.length)
        .body(form.into_body())
        .build()
        .map_err(|e| Error::invalid_request(format!("could not build the upload: {e}")))?;

    crate::client::send_through_executor(client, request, operation).await
}

/// A `multipart/form-data` body (RFC 7578) of `files` parts, one per file: the part headers
/// are written here and the files' bytes are streamed as they are, never copied.
///
/// Written by hand rather than with reqwest's `multipart` feature, which also compiles
/// `mime_guess` and its extension table into every build for a content type the SDK already
/// knows. The wire format is the one reqwest writes (checked byte for byte in
/// `tests/upload.rs`) but for unusual file names ([`quoted_file_name`]).
struct FormData {
    boundary: String,
    chunks: Vec<Bytes>,
    length: u64,
}

impl FormData {
    fn of_files(upload: UploadKind, files: &[&UploadFile]) -> Result<Self, UploadError> {
        // 128 random bits in hex: cannot be mistaken for file content by chance.
        let boundary = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let mut chunks = Vec::with_capacity(files.len() * 3 + 1);
        for file in files {
            let content_type: mime::Mime =
                file.content_type()
                    .parse()
                    .map_err(|_| UploadError::InvalidContentType {
                        upload,
                        file: file.file_name.clone(),
                        content_type: file.content_type().to_string(),
                    })?;
            chunks.push(Bytes::from(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{FILES_PART}\"; \
                 filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                quoted_file_name(&file.file_name)
            )));
            chunks.push(file.bytes.clone());
            chunks.push(Bytes::from_static(b"\r\n"));
        }
        chunks.push(Bytes::from(format!("--{boundary}--\r\n")));
        let length = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        Ok(FormData {
            boundary,
            chunks,
            length,
        })
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn into_body(self) -> reqwest::Body {
        let chunks = self
            .chunks
            .into_iter()
            .map(Ok::<_, std::convert::Infallible>);
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
    }
}

/// A file name inside the quotes of `filename="…"`, encoded as browsers encode form data (the
/// HTML standard's `multipart/form-data`): a quote, CR and LF become `%22`, `%0D` and `%0A`, so no
/// name can end the quoted value or the header line. (reqwest puts a backslash before them and
/// leaves CR and LF raw in the header.)
fn quoted_file_name(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains(['"', '\r', '\n']) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut quoted = String::with_capacity(name.len() + 6);
    for c in name.chars() {
        match c {
            '"' => quoted.push_str("%22"),
            '\r' => quoted.push_str("%0D"),
            '\n' => quoted.push_str("%0A"),
            c => quoted.push(c),
        }
    }
    std::borrow::Cow::Owned(quoted)
}

/// The success body of an upload: unknown to the docs, so any JSON object (or nothing) is fine,
/// kept exactly as an open object; an empty body is the empty object.
fn decode_object(answer: RawAnswer) -> Result<types::OpenObject, Error> {
    let RawAnswer {
        status,
        bytes,
        record,
    } = answer;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(types::OpenObject::default());
    }
    let text = std::str::from_utf8(&bytes).unwrap_or_default();
    types::OpenObject::from_json(text).map_err(|source| {
        Error::decode(
            Some(status),
            bytes.clone(),
            "the upload's answer is not a JSON object",
            Some(source),
            record,
        )
    })
}
