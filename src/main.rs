use clap::Parser;

fn main() {
    let cli = depthwatch::cli::Cli::parse();
    match depthwatch::app::main(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("depthwatch: {e:#}");
            std::process::exit(1);
        }
    }
}
