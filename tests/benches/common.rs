//! What the dossier benches share: writing figures, reading this process's memory, and the
//! procedures they publish in the sandbox's catalogue.

#![allow(dead_code)]

use citizen_core::dossier::{AttachmentRule, Dossiers, DraftId, Procedure};
use citizen_e2e::dossier_kit::filler;

/// Prints `figure` and writes it to `$CITIZEN_BENCH_FIGURES/<name>.json` (default
/// `target/bench-figures/`).
pub fn write_figure(name: &str, figure: serde_json::Value) {
    println!("{name}: {figure}");
    let dir = std::env::var_os("CITIZEN_BENCH_FIGURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-figures")
        });
    std::fs::create_dir_all(&dir).unwrap();
    let text = serde_json::to_string_pretty(&figure).unwrap();
    std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
}

/// A line of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
pub fn proc_status_bytes(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

/// Resets `VmHWM` to the current RSS (`echo 5 > /proc/self/clear_refs`). Whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A procedure for the benches: the form of `base` (a birth registration), code `code`, and
/// `attachments` as its only document rules.
pub fn bench_procedure(
    base: &Procedure,
    code: &str,
    attachments: Vec<AttachmentRule>,
) -> Procedure {
    let mut procedure = base.clone();
    procedure.code = code.into();
    procedure.version = 1;
    procedure.name = format!("{} (bench {code})", base.name);
    procedure.attachments = attachments;
    procedure
}

/// A draft of `procedure` with every field filled. Attaches nothing.
pub async fn filled_draft(dossiers: &Dossiers, procedure: &Procedure, id_number: &str) -> DraftId {
    let draft = dossiers.create_draft(&procedure.code).await.unwrap();
    let values = procedure
        .form
        .iter()
        .map(|field| (field.id.clone(), filler(field, "Nguyễn Văn An", id_number)))
        .collect();
    dossiers.set_fields(draft.id, values).await.unwrap();
    draft.id
}
