//! Arbitrary bytes as a tenant's files through the whole render; see
//! `stencil_dev::fuzzing::render`. Seeds: `fuzz/seeds/render/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    stencil_dev::fuzzing::render(data);
});
