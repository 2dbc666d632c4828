pub fn run() -> (usize, Vec<String>) {
    (0, Vec::new())
}
