fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A vendored protoc: building needs no system protobuf compiler.
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    let protos = [
        "proto/common.proto",
        "proto/journal.proto",
        "proto/file_system_master.proto",
        "proto/block_master.proto",
        "proto/meta_master.proto",
        "proto/block_worker.proto",
        "proto/raft_journal.proto",
    ];
    tonic_prost_build::configure()
        // Block data moves as `Bytes` so chunks are never copied between the socket and the file.
        .bytes(".alluxio.grpc.block.ReadResponse")
        .bytes(".alluxio.grpc.block.WriteRequest")
        .compile_protos(&protos, &["proto"])?;
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    Ok(())
}
