fn main() {
    println!("depthwatch");
}
