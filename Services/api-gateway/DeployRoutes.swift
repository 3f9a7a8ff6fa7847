import Foundation
import Hummingbird
import IceShelvesContracts

/// `POST /iceshelves/api/deploy`: the original's body plus `variables`, per-deployment
/// overrides, `count` with `name_pattern` for a batch, and `?dry_run=true`.
struct DeployRoutes {
    let gateway: Gateway

    struct Body: Decodable {
        var eggId: IdOrName
        var eggVersion: String?
        var clusterId: IdOrName
        var instanceName: String?
        var targetMember: String?
        var configOverrides: [String: String]?
        var variables: [String: VariableValue]?
        var hostname: String?
        var sshAuthorizedKeys: [String]?
        var packages: [String]?
        var timezone: String?
        var cloudConfig: String?
        var image: String?
        var keepOnFailure: Bool?
        var deploymentType: TargetType?
        var count: Int?
        var namePattern: String?

        enum CodingKeys: String, CodingKey {
            case variables, hostname, packages, timezone, image, count
            case eggId = "egg_id"
            case eggVersion = "egg_version"
            case clusterId = "cluster_id"
            case instanceName = "instance_name"
            case targetMember = "target_member"
            case configOverrides = "config_overrides"
            case sshAuthorizedKeys = "ssh_authorized_keys"
            case cloudConfig = "cloud_config"
            case keepOnFailure = "keep_on_failure"
            case deploymentType = "deployment_type"
            case namePattern = "name_pattern"
        }
    }

    struct Accepted: Encodable {
        var deploymentId: String
        var instanceName: String
        var status = DeploymentStatus.pending
        var message: String
        var deployments: [Item]?

        struct Item: Encodable {
            var deploymentId: String
            var instanceName: String
            enum CodingKeys: String, CodingKey {
                case deploymentId = "deployment_id"
                case instanceName = "instance_name"
            }
        }

        enum CodingKeys: String, CodingKey {
            case status, message, deployments
            case deploymentId = "deployment_id"
            case instanceName = "instance_name"
        }
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.post("deploy") { request, context -> Response in
            let who = try context.require(.operator)
            let body = try await JSONBody.read(Body.self, from: request, limit: gateway.settings.maxBodyBytes)
            let dryRun: Bool
            switch request.uri.queryParameters["dry_run"].map(String.init) {
            case nil, "false": dryRun = false
            case "true": dryRun = true
            default: throw APIError.badRequest("dry_run must be true or false")
            }
            let plan = try await plan(body, by: who)
            if dryRun {
                let rendered = try await gateway.pipeline.preview(plan.requests[0])
                return JSONBody.raw(dryRunBody(rendered, plan: plan), status: .ok)
            }
            try await gateway.submitter.submit(plan.requests, eggId: plan.egg.egg.id, cluster: plan.cluster, by: who)
            let items = plan.requests.map { Accepted.Item(deploymentId: $0.deploymentId, instanceName: $0.instanceName) }
            let first = items[0]
            let message =
                items.count == 1
                ? "deployment of \(plan.egg.egg.name) to \(plan.cluster.name) accepted"
                : "\(items.count) deployments of \(plan.egg.egg.name) to \(plan.cluster.name) accepted"
            return JSONBody.success(
                Accepted(
                    deploymentId: first.deploymentId,
                    instanceName: first.instanceName,
                    message: message,
                    deployments: items.count > 1 ? items : nil
                ),
                status: .created
            )
        }
    }

    struct Plan {
        var egg: EggDetail
        var cluster: ClusterStore.Cluster
        var requests: [DeploymentRequested]
    }

    /// Validates the body and builds the deployment requests (one per instance).
    func plan(_ body: Body, by who: Identity) async throws -> Plan {
        guard let clusterId = Int64(body.clusterId.text), let cluster = try await gateway.clusters.get(clusterId) else {
            throw APIError.notFound("no cluster \(body.clusterId.text.prefix(40))")
        }
        guard cluster.isActive else { throw APIError.conflict("cluster \(cluster.name) is not active") }
        let viaAgent = cluster.method == .agentPoll
        let egg = try await EggRoutes(gateway: gateway).egg(body.eggId.text, version: body.eggVersion)
        guard egg.egg.isActive else { throw APIError.conflict("egg \(egg.egg.name) is deactivated") }
        // The cluster's kind decides the target; a deployment_type that disagrees is refused.
        let target = cluster.hypervisor.target
        if who.role < .admin {
            try await HostAccessGuard(reviews: gateway.reviews).check(
                egg: egg,
                overrides: body.configOverrides ?? [:],
                cluster: cluster,
                target: target
            )
        }
        if let asked = body.deploymentType, asked != target {
            throw APIError.badRequest(
                "cluster \(cluster.name) is a \(cluster.hypervisor.rawValue) cluster; deployment_type \(asked.rawValue) cannot go there"
            )
        }
        guard egg.egg.eggType.allows(target) else {
            let kind = target == .lxd ? "an LXD cluster (containers)" : "a KVM cluster (virtual machines)"
            throw APIError.badRequest(
                "egg \(egg.egg.name) is a \(egg.egg.eggType.rawValue) egg; it cannot be deployed to \(cluster.name), \(kind)"
            )
        }
        let count = body.count ?? 1
        guard (1...gateway.settings.maxBatch).contains(count) else { throw APIError.badRequest("count must be 1 to \(gateway.settings.maxBatch)") }
        let names = try instanceNames(body, count: count)
        if let member = body.targetMember {
            guard InstanceNameRule.problem(member) == nil else {
                throw APIError.badRequest("target_member '\(member.prefix(63))' is not a member name")
            }
        }
        for (k, v) in body.configOverrides ?? [:] {
            guard !k.isEmpty, k.unicodeScalars.count <= 256,
                k.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0))
                })
            else {
                throw APIError.badRequest("config_overrides key '\(k.prefix(64))' is not an LXD config key")
            }
            guard !k.hasPrefix("user.iceshelves."), !k.hasPrefix("cloud-init."),
                !["user.user-data", "user.vendor-data", "user.network-config", "user.meta-data"].contains(k)
            else {
                throw APIError.badRequest("config_overrides may not set \(k): IceShelves writes it")
            }
            guard v.unicodeScalars.count <= 64 * 1024 else { throw APIError.badRequest("config_overrides value of \(k) is too long") }
        }
        if let image = body.image, image.isEmpty || image.unicodeScalars.count > 256 {
            throw APIError.badRequest("image must be an alias or fingerprint")
        }
        let overrides = RenderOverrides(
            hostname: body.hostname,
            sshAuthorizedKeys: body.sshAuthorizedKeys ?? [],
            extraPackages: body.packages ?? [],
            timezone: body.timezone,
            cloudConfig: body.cloudConfig
        )
        let requests = names.map { name in
            DeploymentRequested(
                deploymentId: UUID().uuidString.lowercased(),
                eggName: egg.egg.name,
                eggVersion: egg.egg.version,
                eggContentHash: egg.egg.contentHash,
                instanceName: name,
                target: target,
                variables: body.variables ?? [:],
                overrides: overrides,
                destination: DeploymentTarget(
                    clusterId: String(cluster.id),
                    targetMember: body.targetMember,
                    image: body.image,
                    configOverrides: body.configOverrides ?? [:],
                    keepOnFailure: body.keepOnFailure ?? false,
                    viaAgent: viaAgent
                )
            )
        }
        return Plan(egg: egg, cluster: cluster, requests: requests)
    }

    /// One name, or `count` names from `name_pattern` (`{n}` is 1, 2, …; default `<instance_name>-{n}`).
    func instanceNames(_ body: Body, count: Int) throws -> [String] {
        let names: [String]
        if count == 1 && body.namePattern == nil {
            guard let name = body.instanceName else { throw APIError.badRequest("instance_name is required") }
            names = [name]
        } else {
            let pattern = body.namePattern ?? ((body.instanceName ?? "").isEmpty ? nil : body.instanceName! + "-{n}")
            guard let pattern, pattern.contains("{n}") || count == 1 else {
                throw APIError.badRequest("a batch needs name_pattern with {n}, or instance_name")
            }
            names = (1...count).map { pattern.replacingOccurrences(of: "{n}", with: String($0)) }
        }
        for n in names {
            if let problem = InstanceNameRule.problem(n) { throw APIError.badRequest(problem) }
        }
        return names
    }

    /// What a dry run shows: the rendered files and the LXD request that would be sent.
    func dryRunBody(_ r: DeploymentRendered, plan: Plan) -> [String: Any] {
        var targetRequest: [String: Any] = [
            "method": "POST",
            "path": "/1.0/instances" + (r.destination?.targetMember.map { "?target=\($0)" } ?? ""),
            "body": [
                "name": r.instanceName, "type": r.target == .lxd ? "container" : "virtual-machine",
                "source": ["type": "image", "alias": r.baseImage], "profiles": LXDInstancePlan.profiles(for: r),
                "config": LXDInstancePlan.config(for: r),
            ] as [String: Any],
        ]
        if r.target == .kvm { targetRequest = ["method": "libvirt defineXML", "domain_fragment": r.kvmConfig ?? NSNull(), "image": r.baseImage] }
        let data: [String: Any] = [
            "dry_run": true, "egg_name": r.eggName, "egg_version": r.eggVersion, "egg_content_hash": r.eggContentHash,
            "cluster_id": plan.cluster.id, "instance_name": r.instanceName, "instance_names": plan.requests.map(\.instanceName),
            "user_data": r.userData, "meta_data": r.metaData, "network_config": r.networkConfig ?? NSNull(), "vendor_data": r.vendorData ?? NSNull(),
            "lxd_profile": r.lxdProfile ?? NSNull(), "target_request": targetRequest,
        ]
        var out = data
        out["success"] = true
        out["data"] = data
        return out
    }
}
