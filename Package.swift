// swift-tools-version: 6.0
// IceShelves: services that talk only over AMQP 0-9-1 through RabbitMQ.
import PackageDescription

/// Swift 6 language mode (tools-version 6.0) gives complete strict concurrency checking.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "IceShelves",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "api-gateway", targets: ["ApiGateway"]),
        .executable(name: "egg-catalog", targets: ["EggCatalog"]),
        .executable(name: "cloud-init-renderer", targets: ["CloudInitRenderer"]),
        .executable(name: "lxd-deployer", targets: ["LxdDeployer"]),
        .executable(name: "kvm-deployer", targets: ["KvmDeployer"]),
        .executable(name: "agent-broker", targets: ["AgentBroker"]),
        .executable(name: "iceshelves-agent", targets: ["IceshelvesAgent"]),
        .executable(name: "iceshelves", targets: ["IceshelvesCLI"]),
        .executable(name: "bus-bench", targets: ["BusBench"]),
        .executable(name: "catalog-bench", targets: ["CatalogBench"]),
        .executable(name: "render-bench", targets: ["RenderBench"]),
        .executable(name: "lxd-bench", targets: ["LXDBench"]),
        .executable(name: "kvm-bench", targets: ["KVMBench"]),
        .library(name: "IceShelvesBus", targets: ["IceShelvesBus"]),
        .library(name: "IceShelvesContracts", targets: ["IceShelvesContracts"]),
        .library(name: "IceShelvesService", targets: ["IceShelvesService"]),
        .library(name: "IceShelvesLXD", targets: ["IceShelvesLXD"]),
        .library(name: "IceShelvesLibvirt", targets: ["IceShelvesLibvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),

        .systemLibrary(
            name: "CZlib",
            path: "Shared/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        .systemLibrary(
            name: "CCurl",
            path: "Shared/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev", "libssl-dev"])]
        ),

        .systemLibrary(
            name: "CSSH2",
            path: "Shared/CSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),

        .systemLibrary(
            name: "CLibvirt",
            path: "Shared/CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),

        // MARK: Shared libraries
        .target(
            name: "IceShelvesLibvirt",
            dependencies: ["CLibvirt"],
            path: "Shared/IceShelvesLibvirt",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesLXD",
            dependencies: [
                "CCurl", "CSSH2", "IceShelvesContracts",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/IceShelvesLXD",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesDeploy",
            dependencies: [
                "IceShelvesLXD", "IceShelvesContracts", "IceShelvesEggs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Shared/IceShelvesDeploy",
            swiftSettings: strict
        ),
        // The KVM deploy steps of kvm-deployer and iceshelves-agent (apart from IceShelvesDeploy so that LXD-only programs do not link libvirt).
        .target(
            name: "IceShelvesKVMDeploy",
            dependencies: [
                "IceShelvesDeploy", "IceShelvesLibvirt", "IceShelvesContracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/IceShelvesKVMDeploy",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesEggs",
            dependencies: [
                "CZlib", "IceShelvesContracts",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/IceShelvesEggs",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesSettings",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Shared/IceShelvesSettings",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesContracts",
            path: "Shared/IceShelvesContracts",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesRendering",
            dependencies: ["IceShelvesEggs", "IceShelvesContracts", .product(name: "Yams", package: "Yams")],
            path: "Shared/IceShelvesRendering",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesBus",
            dependencies: [
                "CRabbitMQ",
                "IceShelvesContracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/IceShelvesBus",
            swiftSettings: strict
        ),
        .target(
            name: "IceShelvesService",
            dependencies: [
                "IceShelvesBus",
                "IceShelvesSettings",
                "IceShelvesContracts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Shared/IceShelvesService",
            swiftSettings: strict
        ),

        // MARK: Services
        .executableTarget(
            name: "ApiGateway",
            dependencies: [
                "IceShelvesService", "IceShelvesBus", "IceShelvesContracts", "IceShelvesEggs", "CCurl",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Services/api-gateway",
            resources: [.copy("openapi.json")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "EggCatalog",
            dependencies: [
                "IceShelvesService", "IceShelvesEggs", "IceShelvesContracts", "IceShelvesBus",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Services/egg-catalog",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CloudInitRenderer",
            dependencies: [
                "IceShelvesService", "IceShelvesEggs", "IceShelvesContracts", "IceShelvesBus", "IceShelvesRendering",
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/cloud-init-renderer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "LxdDeployer",
            dependencies: [
                "IceShelvesService", "IceShelvesLXD", "IceShelvesDeploy", "IceShelvesContracts", "IceShelvesBus", "IceShelvesEggs",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/lxd-deployer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "KvmDeployer",
            dependencies: [
                "IceShelvesService", "IceShelvesBus", "IceShelvesContracts", "IceShelvesLibvirt", "IceShelvesDeploy", "IceShelvesKVMDeploy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/kvm-deployer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "AgentBroker",
            dependencies: [
                "IceShelvesService", "IceShelvesBus", "IceShelvesContracts", "IceShelvesSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/agent-broker",
            swiftSettings: strict
        ),
        // The agent and the CLI are HTTP clients (of the agent-broker, of the gateway): no bus, no server stack.
        .executableTarget(
            name: "IceshelvesAgent",
            dependencies: [
                "IceShelvesSettings", "IceShelvesContracts", "IceShelvesLXD", "IceShelvesDeploy", "IceShelvesKVMDeploy", "IceShelvesLibvirt", "CCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/iceshelves-agent",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "IceshelvesCLI",
            dependencies: [
                "IceShelvesContracts", "IceShelvesSettings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/iceshelves",
            swiftSettings: strict
        ),

        // MARK: Benchmarks (run by hand or by benchmarks/*.sh; never timed in tests)
        .executableTarget(
            name: "BusBench",
            dependencies: ["IceShelvesBus", "IceShelvesContracts"],
            path: "benchmarks/bus-bench",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "CatalogBench",
            dependencies: ["IceShelvesBus", "IceShelvesContracts"],
            path: "benchmarks/catalog-bench",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "RenderBench",
            dependencies: ["IceShelvesRendering", "IceShelvesEggs", "IceShelvesContracts"],
            path: "benchmarks/render-bench",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "LXDBench",
            dependencies: ["IceShelvesBus", "IceShelvesContracts", .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/lxd-bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "KVMBench",
            dependencies: ["IceShelvesBus", "IceShelvesContracts", "IceShelvesLibvirt", .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/kvm-bench",
            swiftSettings: strict
        ),

        // MARK: Tests
        .target(name: "IceShelvesTestSupport", dependencies: ["IceShelvesContracts"], path: "Tests/IceShelvesTestSupport", swiftSettings: strict),
        .testTarget(name: "IceShelvesContractsTests", dependencies: ["IceShelvesContracts"], swiftSettings: strict),
        .testTarget(name: "IceShelvesBusTests", dependencies: ["IceShelvesBus"], swiftSettings: strict),
        .testTarget(name: "IceShelvesServiceTests", dependencies: ["IceShelvesService", "IceShelvesSettings"], swiftSettings: strict),
        .testTarget(name: "IceShelvesSettingsTests", dependencies: ["IceShelvesSettings"], swiftSettings: strict),
        .testTarget(name: "IceShelvesEggsTests", dependencies: ["IceShelvesEggs", "IceShelvesTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "EggCatalogTests",
            dependencies: ["EggCatalog", "IceShelvesBus", "IceShelvesContracts", "IceShelvesTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IceShelvesRenderingTests",
            dependencies: [
                "IceShelvesRendering", "IceShelvesEggs", "IceShelvesContracts", "IceShelvesTestSupport", .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IceShelvesLXDTests",
            dependencies: ["IceShelvesLXD", "IceShelvesContracts", "IceShelvesTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AgentBrokerTests",
            dependencies: ["AgentBroker", "IceShelvesContracts", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LxdDeployerTests",
            dependencies: ["LxdDeployer", "IceShelvesDeploy", "IceShelvesContracts", "IceShelvesLXD", "IceShelvesTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "IceShelvesLibvirtTests", dependencies: ["IceShelvesLibvirt"], swiftSettings: strict),
        .testTarget(
            name: "KvmDeployerTests",
            dependencies: ["KvmDeployer", "IceShelvesKVMDeploy", "IceShelvesContracts", "IceShelvesLibvirt"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IceshelvesCLITests",
            dependencies: ["IceshelvesCLI", "IceShelvesContracts", "IceShelvesSettings", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ApiGatewayTests",
            dependencies: ["ApiGateway", "IceShelvesContracts", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "IceShelvesBus", "IceShelvesContracts", "IceShelvesLXD", "IceShelvesLibvirt", "IceShelvesTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
    ]
)
