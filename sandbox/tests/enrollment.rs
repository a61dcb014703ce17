//! Enrolment through the two ways in: the `enroll` command (as a developer runs it) and the
//! sandbox-only endpoint (as tests use it), each redeemed the way the wallet's activation will.

use std::process::Command;

use citizen_core::CitizenConfig;
use citizen_core::net::{HttpClient, NetError};
use citizen_sandbox::enrollment::{self, Enrollment, EnrollmentRequest};

#[test]
fn the_enroll_command_prints_a_code_that_redeems_once() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_citizen-sandbox"))
        .args(["enroll", "--id-number", "079090001234", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let code = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("activation code : "))
        .unwrap_or_else(|| panic!("no code in {stdout}"))
        .to_string();

    let conn = rusqlite::Connection::open(data.path().join("sandbox.db")).unwrap();
    let record = enrollment::redeem(&conn, "079090001234", &code, current_time()).unwrap();
    assert_eq!(record, EnrollmentRequest::sample("079090001234"));
    assert!(enrollment::redeem(&conn, "079090001234", &code, current_time()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_endpoint_enrols_and_names_a_bad_field() {
    let data = tempfile::tempdir().unwrap();
    let sandbox = citizen_sandbox::start(citizen_sandbox::SandboxConfig::loopback(data.path()))
        .await
        .unwrap();
    let client_dir = tempfile::tempdir().unwrap();
    let mut config = CitizenConfig::new(client_dir.path(), &sandbox.base_url);
    config.trusted_roots_pem = vec![sandbox.ca_pem.clone()];
    config.portal_spki_pins = vec![sandbox.spki_pin.clone()];
    let http = HttpClient::new(&config).unwrap();

    let request = EnrollmentRequest::sample("001090012345");
    let enrollment: Enrollment = http
        .post_json("v1/test/enrollments", &request)
        .await
        .unwrap();
    assert_eq!(enrollment.id_number, "001090012345");
    assert_eq!(enrollment.activation_code.len(), 9);

    let mut bad = request.clone();
    bad.birth_date = "1990-13-01".into();
    let refused = http
        .post_json::<Enrollment>("v1/test/enrollments", &bad)
        .await
        .unwrap_err();
    assert_eq!(refused, NetError::Status { status: 400 });
    assert_eq!(sandbox.requests_for("/v1/test/enrollments").unwrap(), 2);
}

fn current_time() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
