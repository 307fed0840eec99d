//! Property tests: the parser, the validator and the bundle reader never panic,
//! whatever bytes arrive.

use std::io::Write;

use cairn_config::bundle::{BundleFormat, read_bundle};
use proptest::prelude::*;

const VALID: &str = include_str!("fixtures/valid/full.toml");

fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = base.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        let i = at % (bytes.len() + 1);
        match op % 3 {
            0 if i < bytes.len() => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn validate_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let v = cairn_config::validate(&bytes);
        prop_assert!(v.is_valid() || v.errors().next().is_some());
    }

    #[test]
    fn validate_never_panics_on_mutated_configs(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..24)) {
        let bytes = mutate(VALID, &edits);
        let v = cairn_config::validate(&bytes);
        // Whatever the outcome, every diagnostic points inside the source.
        for d in &v.diagnostics {
            prop_assert!(d.span.start <= bytes.len() && d.line >= 1 && d.column >= 1, "{d:?}");
        }
    }

    #[test]
    fn validate_never_panics_on_toml_shaped_noise(lines in proptest::collection::vec("[\\[\\]a-zA-Z_.=\" 0-9%\\\\{},\n-]{0,40}", 0..40)) {
        let text = format!("version = 1\n{}", lines.join("\n"));
        let _ = cairn_config::validate(text.as_bytes());
    }

    #[test]
    fn bundle_reader_never_panics_on_arbitrary_compressed_bytes(body in proptest::collection::vec(any::<u8>(), 0..4096), zstd in any::<bool>()) {
        let mut input = if zstd { vec![0x28, 0xb5, 0x2f, 0xfd] } else { vec![0x1f, 0x8b] };
        input.extend_from_slice(&body);
        let format = BundleFormat::detect(&input).expect("magic");
        let _ = read_bundle(format, input.as_slice());
    }

    #[test]
    fn bundle_reader_never_panics_on_arbitrary_tar_bytes(tar_bytes in proptest::collection::vec(any::<u8>(), 0..8192)) {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&tar_bytes).unwrap();
        let gz = enc.finish().unwrap();
        let _ = read_bundle(BundleFormat::TarGz, gz.as_slice());
    }

    #[test]
    fn bundle_reader_never_panics_on_arbitrary_headers(
        entries in proptest::collection::vec(("[a-z./]{0,20}", 0u8..8, proptest::collection::vec(any::<u8>(), 0..64)), 0..8)
    ) {
        let mut data = Vec::new();
        for (path, kind, body) in entries {
            let mut header = tar::Header::new_gnu();
            let name = path.as_bytes();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_entry_type(tar::EntryType::new(b'0' + kind));
            header.set_size(body.len() as u64);
            header.set_cksum();
            data.extend_from_slice(header.as_bytes());
            data.extend_from_slice(&body);
            data.resize(data.len().div_ceil(512) * 512, 0);
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        let gz = enc.finish().unwrap();
        let _ = read_bundle(BundleFormat::TarGz, gz.as_slice());
    }
}

#[test]
fn an_oversized_config_is_refused_up_front() {
    let huge = vec![b'#'; cairn_config::MAX_CONFIG_BYTES + 1];
    let v = cairn_config::validate(&huge);
    assert!(!v.is_valid());
    assert!(v.diagnostics[0].message.contains("the limit is"), "{:?}", v.diagnostics);
}
