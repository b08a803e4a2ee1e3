//! A runnable webhook receiver (being written).
fn main() {}
