//! The sandbox's tus 1.0.0 server over real HTTPS, spoken to by a plain HTTP client: the
//! protocol's checks (version, content type, offsets, lengths) and a 50 MB upload stored on disk
//! byte for byte.

mod support;

use reqwest::{Method, StatusCode};
use support::*;

const V: &str = "1.0.0";
const OCTETS: &str = "application/offset+octet-stream";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn create(http: &reqwest::Client, base: &str, length: u64) -> String {
    let response = http
        .post(format!("{base}v1/uploads"))
        .header("tus-resumable", V)
        .header("upload-length", length.to_string())
        .header("upload-metadata", "media_type aW1hZ2UvcG5n,kind")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "tus-resumable").as_deref(), Some(V));
    let location = header(&response, "location").unwrap();
    assert!(location.starts_with("/v1/uploads/"), "{location}");
    format!("{}{}", base.trim_end_matches('/'), location)
}

async fn patch(
    http: &reqwest::Client,
    url: &str,
    offset: u64,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    http.patch(url)
        .header("tus-resumable", V)
        .header("upload-offset", offset.to_string())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn head(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.head(url)
        .header("tus-resumable", V)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_protocol_checks_hold() {
    let (sandbox, _data) = start().await;
    let http = client(&sandbox);
    let base = sandbox.base_url.clone();

    let options = http
        .request(Method::OPTIONS, format!("{base}v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&options, "tus-version").as_deref(), Some(V));
    assert_eq!(
        header(&options, "tus-extension").as_deref(),
        Some("creation")
    );
    assert_eq!(
        header(&options, "tus-max-size").as_deref(),
        Some("67108864")
    );

    // Creation: version required, a plain length, a well-formed metadata header, a size limit.
    let post = |version: Option<&str>, length: &str, metadata: &str| {
        let mut request = http
            .post(format!("{base}v1/uploads"))
            .header("upload-length", length.to_owned())
            .header("upload-metadata", metadata.to_owned());
        if let Some(version) = version {
            request = request.header("tus-resumable", version.to_owned());
        }
        request.send()
    };
    let refused = post(None, "10", "").await.unwrap();
    assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(header(&refused, "tus-version").as_deref(), Some(V));
    assert_eq!(
        post(Some("0.2.2"), "10", "").await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED
    );
    for length in ["", "-1", "+1", "ten"] {
        assert_eq!(
            post(Some(V), length, "").await.unwrap().status(),
            StatusCode::BAD_REQUEST,
            "{length}"
        );
    }
    assert_eq!(
        post(Some(V), "67108865", "").await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        post(Some(V), "10", "k !!!").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let url = create(&http, &base, 10).await;
    let info = sandbox.tus_upload(&url).unwrap();
    assert_eq!(
        info.metadata,
        vec![
            ("media_type".into(), "image/png".into()),
            ("kind".into(), String::new())
        ]
    );
    let fresh = head(&http, &url).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    assert_eq!(header(&fresh, "upload-offset").as_deref(), Some("0"));
    assert_eq!(header(&fresh, "upload-length").as_deref(), Some("10"));
    assert_eq!(header(&fresh, "cache-control").as_deref(), Some("no-store"));

    // PATCH: version, content type, offset, length.
    let unversioned = http
        .patch(&url)
        .header("upload-offset", "0")
        .header("content-type", OCTETS)
        .body(vec![1, 2])
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        patch(&http, &url, 0, "application/json", vec![1])
            .await
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        patch(&http, &url, 3, OCTETS, vec![1]).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        patch(&http, &url, 0, OCTETS, vec![0; 11]).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let first = patch(&http, &url, 0, OCTETS, vec![1, 2, 3, 4]).await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&first, "upload-offset").as_deref(), Some("4"));
    assert_eq!(
        patch(&http, &url, 0, OCTETS, vec![1]).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        patch(&http, &url, 4, OCTETS, vec![0; 7]).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let last = patch(&http, &url, 4, OCTETS, vec![5, 6, 7, 8, 9, 10]).await;
    assert_eq!(header(&last, "upload-offset").as_deref(), Some("10"));
    let done = sandbox.tus_upload(&url).unwrap();
    assert_eq!(done.offset, 10);
    let expected = ring::digest::digest(&ring::digest::SHA256, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let expected: String = expected
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(done.sha256, Some(expected));

    // Unknown uploads.
    let unknown = format!("{base}v1/uploads/0000");
    assert_eq!(head(&http, &unknown).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        patch(&http, &unknown, 0, OCTETS, vec![1]).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_upload_is_stored_byte_for_byte() {
    let (sandbox, _data) = start().await;
    let http = client(&sandbox);
    let length: usize = 50 * 1024 * 1024;
    let chunk: usize = 8 * 1024 * 1024;
    let url = create(&http, &sandbox.base_url, length as u64).await;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut offset = 0;
    while offset < length {
        let len = chunk.min(length - offset);
        let bytes: Vec<u8> = (offset..offset + len).map(|i| (i % 251) as u8).collect();
        context.update(&bytes);
        let response = patch(&http, &url, offset as u64, OCTETS, bytes).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        offset += len;
        assert_eq!(header(&response, "upload-offset"), Some(offset.to_string()));
    }
    let expected: String = context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let info = sandbox.tus_upload(&url).unwrap();
    assert_eq!(info.sha256, Some(expected));
    assert_eq!(info.patch_bytes, length as u64);
}
