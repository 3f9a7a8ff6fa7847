import IceShelvesContracts
import IceShelvesEggs
import IceShelvesLXD

/// Turns an egg's `lxd-profile.yaml` into the LXD profile IceShelves creates for that egg
/// version (named by ``LXDInstancePlan/profileName(egg:version:contentHash:)``).
public enum ProfileMapper {
    public static func profile(yaml: String, egg: String, version: String, contentHash: String) throws -> LXDProfile {
        let spec: LXDProfileSpec
        do {
            spec = try LXDProfileSpec.parse(yaml)
        } catch {
            throw DeployFailure(step: .profile, message: "the egg's LXD profile is \(error)")
        }
        return LXDProfile(
            name: LXDInstancePlan.profileName(egg: egg, version: version, contentHash: contentHash),
            description: spec.description ?? "IceShelves egg \(egg) \(version)",
            config: spec.config,
            devices: spec.devices
        )
    }
}
