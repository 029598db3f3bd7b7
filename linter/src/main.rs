fn main() {
    println!("archlint");
}
