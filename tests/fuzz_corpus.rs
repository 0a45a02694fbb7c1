//! Replays every committed fuzz input (`fuzz/corpus/<target>/` and any regression kept in
//! `fuzz/artifacts/<target>/`) through the same invariant checks the fuzz targets run
//! (`kanri::fuzzing`), so plain stable `cargo test` fails when a parser change breaks one.

use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("cursor", kanri::fuzzing::cursor),
    ("text_query", kanri::fuzzing::text_query),
    ("range", kanri::fuzzing::range),
    ("file_name", kanri::fuzzing::file_name),
    ("svix", kanri::fuzzing::svix),
    ("stripe", kanri::fuzzing::stripe),
    ("standard_webhooks", kanri::fuzzing::standard_webhooks),
    ("config_urls", kanri::fuzzing::config_urls),
];

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_input_keeps_its_invariants() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut broken = Vec::new();
    for (target, check) in TARGETS {
        let corpus = inputs(&fuzz.join("corpus").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no inputs");
        let regressions = inputs(&fuzz.join("artifacts").join(target));
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).expect("readable input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            if outcome.is_err() {
                broken.push(format!("{target}: {}", path.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "inputs breaking an invariant (panics above):\n{}",
        broken.join("\n")
    );
}

#[test]
fn every_fuzz_target_is_replayed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut on_disk: Vec<String> = inputs(&dir)
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    on_disk.sort();
    let mut replayed: Vec<String> = TARGETS.iter().map(|(t, _)| t.to_string()).collect();
    replayed.sort();
    assert_eq!(on_disk, replayed);
}
