//! The contract of both stores, run on a folder and on a real S3-compatible server (a
//! throwaway `moto_server`), and the parsing of `s3://` URLs.

use std::sync::Arc;

use crate::throwaway::ThrowawayS3;
use crate::{Objects, ObjectsError, Presence, S3Location, sha256_hex};

/// A server of the test's own: a static one would outlive the test binary (statics are never
/// dropped), leaving a moto_server behind after every run.
fn server() -> ThrowawayS3 {
    ThrowawayS3::start().expect("a throwaway S3 server starts")
}

/// A fresh store of each kind, with a way to reach an object's bytes behind its back.
fn each_store(test: impl Fn(&Objects, &dyn Fn(&str, Option<&[u8]>))) {
    let folder = tempfile::tempdir().unwrap();
    let local = Objects::local(folder.path());
    test(&local, &|sha: &str, bytes: Option<&[u8]>| {
        let path = crate::local::path_of(folder.path(), sha);
        crate::local::remove(folder.path(), sha);
        if let Some(bytes) = bytes {
            std::fs::write(&path, bytes).unwrap();
        }
    });
    let server = server();
    let s3 = Objects::S3(Arc::new(server.store("contract")));
    test(&s3, &|sha: &str, bytes: Option<&[u8]>| {
        let key = format!("contract/sha256/{}/{sha}", &sha[..2]);
        match bytes {
            Some(bytes) => server.overwrite(&key, bytes).unwrap(),
            None => server.remove(&key).unwrap(),
        }
    });
}

#[test]
fn an_object_is_named_by_its_content_and_read_back_checked() {
    each_store(|store, _| {
        let stored = store.put_bytes(b"consent form v1").unwrap();
        assert_eq!(stored.sha256, sha256_hex(b"consent form v1"));
        assert_eq!(stored.size, 15);
        assert_eq!(
            store.get(&stored.sha256).unwrap().unwrap(),
            b"consent form v1"
        );
        assert_eq!(store.check(&stored.sha256).unwrap(), Presence::Intact);
        // The same content again keeps the one object.
        assert_eq!(store.put_bytes(b"consent form v1").unwrap(), stored);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"protocol text").unwrap();
        let second = store.put_file(file.path()).unwrap();
        assert_eq!(second.sha256, sha256_hex(b"protocol text"));
        let names: Vec<String> = store.list().unwrap().into_iter().map(|(n, _)| n).collect();
        let mut expected = vec![stored.sha256.clone(), second.sha256.clone()];
        expected.sort();
        assert_eq!(names, expected, "{store:?}");
        assert!(store.location_of(&stored.sha256).ends_with(&stored.sha256));
    });
}

#[test]
fn an_altered_or_missing_object_is_found_and_never_served() {
    each_store(|store, behind_its_back| {
        let stored = store.put_bytes(b"locked dataset").unwrap();
        behind_its_back(&stored.sha256, Some(b"forged dataset"));
        assert_eq!(store.check(&stored.sha256).unwrap(), Presence::Altered);
        assert!(matches!(
            store.get(&stored.sha256),
            Err(ObjectsError::Tampered(_))
        ));
        // Storing the true content again does not hide the forgery under the name.
        let again = store.put_bytes(b"locked dataset").unwrap_err();
        assert!(
            again.to_string().contains("does not match its name"),
            "{again}"
        );
        behind_its_back(&stored.sha256, None);
        assert_eq!(store.check(&stored.sha256).unwrap(), Presence::Missing);
        assert_eq!(store.get(&stored.sha256).unwrap(), None);
    });
}

#[test]
fn an_unreferenced_object_can_be_taken_back() {
    each_store(|store, _| {
        let stored = store.put_bytes(b"rolled back").unwrap();
        store.remove_unreferenced(&stored.sha256);
        assert_eq!(store.check(&stored.sha256).unwrap(), Presence::Missing);
        assert!(store.list().unwrap().is_empty());
    });
}

#[test]
fn a_name_that_is_not_a_hash_never_becomes_a_path_or_key() {
    each_store(|store, _| {
        for name in ["../../etc/passwd", "", "ABCDEF", &"a".repeat(63)] {
            let error = store.get(name).unwrap_err();
            assert!(
                error.to_string().contains("is not a document's name"),
                "{error}"
            );
        }
    });
}

/// Two studies claiming one prefix: only the first claim is written (a conditional write),
/// so the second learns it lost even if both looked at an empty prefix.
#[test]
fn a_prefix_is_claimed_once() {
    let server = server();
    let store = server.store("claimed");
    assert_eq!(store.read_claim().unwrap(), None);
    assert!(store.claim("kizon study, first\n").unwrap());
    assert!(!store.claim("kizon study, second\n").unwrap());
    assert_eq!(
        store.read_claim().unwrap().as_deref(),
        Some("kizon study, first\n")
    );
}

#[test]
fn listing_pages_through_the_bucket() {
    // LIST_PAGE is 3 in tests: 8 objects take three pages.
    let server = server();
    let store = Objects::S3(Arc::new(server.store("paging")));
    let mut expected: Vec<String> = (0..8)
        .map(|i| {
            store
                .put_bytes(format!("object {i}").as_bytes())
                .unwrap()
                .sha256
        })
        .collect();
    expected.sort();
    let names: Vec<String> = store.list().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
    let Objects::S3(s3) = &store else {
        unreachable!()
    };
    assert!(!s3.probe_empty().unwrap());
    assert!(server.store("nothing-here").probe_empty().unwrap());
}

#[test]
fn a_missing_bucket_or_unreachable_store_is_named_in_one_line() {
    let server = server();
    let location = S3Location::parse(&format!(
        "s3://no-such-bucket/x?endpoint={}",
        server.endpoint()
    ))
    .unwrap();
    let store = crate::S3Store::connect_with(
        location,
        crate::Credentials::new(crate::throwaway::ACCESS_KEY, crate::throwaway::SECRET_KEY),
    )
    .unwrap();
    // A document read from a bucket that is not there is an error, not a missing document.
    let error = store.get(&sha256_hex(b"x")).unwrap_err().to_string();
    assert!(error.contains("404 NoSuchBucket"), "{error}");
    let error = store.probe_empty().unwrap_err().to_string();
    assert!(error.contains("s3://no-such-bucket/x/"), "{error}");
    assert!(error.contains("404 NoSuchBucket"), "{error}");
    assert!(error.contains("create the bucket first"), "{error}");
    assert!(!error.contains('\n'), "{error}");

    // Nothing listens on port 9 (discard) here.
    let location = S3Location::parse("s3://b/p?endpoint=http://127.0.0.1:9").unwrap();
    let store = crate::S3Store::connect_with(location, crate::Credentials::new("k", "s")).unwrap();
    let error = store.get(&sha256_hex(b"x")).unwrap_err().to_string();
    assert!(error.contains("GET failed"), "{error}");
    assert!(error.contains("is the object store running"), "{error}");
}

#[test]
fn an_s3_url_names_bucket_prefix_endpoint_and_region() {
    let location = S3Location::parse(
        "s3://evidence/studies/kz-01?endpoint=http://minio.local:9000&region=ap-northeast-1",
    )
    .unwrap();
    assert_eq!(location.bucket, "evidence");
    assert_eq!(location.prefix, "studies/kz-01/");
    assert_eq!(
        location.endpoint.as_ref().unwrap().as_str(),
        "http://minio.local:9000/"
    );
    assert_eq!(location.region, "ap-northeast-1");
    // Written out, readably, it parses to the same place.
    assert_eq!(
        location.to_url(),
        "s3://evidence/studies/kz-01?endpoint=http://minio.local:9000/&region=ap-northeast-1"
    );
    assert_eq!(S3Location::parse(&location.to_url()).unwrap(), location);
    let odd = S3Location::parse("s3://e/p?endpoint=http://h:1/a%26b%2Bc%25d").unwrap();
    assert_eq!(S3Location::parse(&odd.to_url()).unwrap(), odd);
    let bare = S3Location::parse("s3://evidence").unwrap();
    assert_eq!(bare.prefix, "");
    assert_eq!(
        S3Location::parse(&bare.to_url()).unwrap().bucket,
        "evidence"
    );

    for (url, says) in [
        (
            "s3://key:secret@evidence/p",
            "credentials do not belong in the URL",
        ),
        ("https://evidence/p", "not an s3:// URL"),
        ("s3:///p", "no bucket"),
        ("s3://evidence/p?style=virtual", "unknown parameter `style`"),
        ("s3://evidence/a/../b", "not allowed in the prefix"),
        ("s3://evidence/p?endpoint=ftp://h", "is not an http(s) URL"),
        (
            "s3://evidence/p?endpoint=https://key:secret@minio.local",
            "credentials do not belong in the endpoint",
        ),
        (
            "s3://evidence/p?region=x%26endpoint%3Dhttp://evil",
            "is not a region's name",
        ),
    ] {
        let error = S3Location::parse(url).unwrap_err().to_string();
        assert!(error.contains(says), "{url}: {error}");
        assert!(error.contains("write s3://BUCKET/PREFIX"), "{url}: {error}");
    }
}
