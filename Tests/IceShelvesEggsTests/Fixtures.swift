import Foundation
import IceShelvesEggs
import IceShelvesTestSupport

/// Paths and helpers shared by the egg tests.
enum Fixtures {
    /// The repository's `eggs/` folder.
    static let eggsFolder = Tool.eggsFolder()

    static let builtIn = ["debian-hello", "ubuntu-base", "ubuntu-docker", "ubuntu-k8s-node", "ubuntu-nginx"]

    static func metadata(name: String = "test-egg", variables: String = "[]") -> String {
        #"{"name":"\#(name)","version":"1.0.0","description":"d","category":"custom","egg_type":"lxd-container","base_image":"ubuntu/24.04","variables":\#(variables)}"#
    }

    static func files(cloudInit: String, metadata: String = metadata()) -> [Egg.File: String] {
        [.metadata: metadata, .cloudInit: cloudInit]
    }
}
