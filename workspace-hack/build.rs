//! Present so that the build dependencies in `Cargo.toml`, which set the features of the
//! proc-macros' `syn`, take part in feature resolution.

fn main() {}
