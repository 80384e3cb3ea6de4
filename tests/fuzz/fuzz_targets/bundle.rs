#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| renmai_fuzz::bundle(data));
