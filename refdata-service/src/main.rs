fn main() {
    println!("refdata");
}
