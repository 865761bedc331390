//! Arbitrary bytes as a SOPS file; see `stencil::fuzzing::sops`. Seeds: `fuzz/seeds/sops/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    stencil::fuzzing::sops(data);
});
