//! Arbitrary bytes as a SOPS file; see `stencil_dev::fuzzing::sops`. Seeds: `fuzz/seeds/sops/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    stencil_dev::fuzzing::sops(data);
});
