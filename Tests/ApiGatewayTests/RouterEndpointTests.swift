import Foundation
import Hummingbird
import IceShelvesContracts
import Testing

@testable import ApiGateway

/// The endpoints the other router suites do not reach: eggs detail, versions, templates,
/// uploads, webhooks, logs, cleanup, the OpenAPI description and the audit log.
@Suite("Gateway router: the remaining endpoints")
struct RouterEndpointTests {
    @Test func eggsTemplatesVersionsAndUploads() async throws {
        let h = try await Harness()
        try await h.run { c in
            let egg = try await c.call(.get, "/iceshelves/api/eggs/debian-hello", key: h.viewer)
            #expect(egg.status == .ok)
            #expect((egg.json["files"] as? [String: Any])?["cloud_init"] as? String == "#cloud-config\n")
            #expect(egg.json["cloud_init_path"] as? String == "eggs/debian-hello/cloud-init.yaml")
            #expect(try await c.call(.get, "/iceshelves/api/eggs/1", key: h.viewer).status == .ok)
            #expect(try await c.call(.get, "/iceshelves/api/eggs/nope", key: h.viewer).status == .notFound)
            #expect(try await c.call(.get, "/iceshelves/api/eggs/debian-hello/versions", key: h.viewer).status == .ok)
            let templates = try await c.call(.get, "/iceshelves/api/templates", key: h.viewer)
            let first = (templates.json["templates"] as? [[String: Any]])?.first
            #expect(first?["required_variables"] as? [String] == ["greeting"])
            let created = try await c.call(
                .post,
                "/iceshelves/api/eggs",
                key: h.operatorKey,
                json: #"{"name":"mine","template_id":1,"variables":{"greeting":"x"}}"#
            )
            #expect(created.status == .created)
            #expect(created.json["egg_id"] as? Int == 1)
            #expect(try await c.call(.post, "/iceshelves/api/eggs", key: h.viewer, json: #"{"name":"mine","template_id":1}"#).status == .forbidden)
            let upload = try await c.call(.post, "/iceshelves/api/eggs/upload", key: h.operatorKey, json: #"{"archive_base64":"H4sI"}"#)
            #expect(upload.status == .created)
            #expect(try await c.call(.post, "/iceshelves/api/eggs/upload", key: h.operatorKey, json: #"{}"#).status == .badRequest)
        }
    }

    @Test func aKnownPathWithAnotherMethodIsA405WithAllow() async throws {
        let h = try await Harness()
        try await h.run { c in
            let trace = try await c.call(.trace, "/iceshelves/api/eggs", key: h.viewer)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.json["error"] as? String == "TRACE is not allowed on /iceshelves/api/eggs; use GET, POST")
            let put = try await c.call(.put, "/iceshelves/api/deployments/abc/cancel", key: h.viewer)
            #expect(put.status == .methodNotAllowed)
            #expect(try await c.call(.get, "/iceshelves/api/nothing-here", key: h.viewer).status == .notFound)
            let options = try await c.call(.options, "/iceshelves/api/eggs/upload", key: h.viewer)
            #expect(options.status == .methodNotAllowed)
            #expect(
                options.json["error"] as? String == "OPTIONS is not allowed on /iceshelves/api/eggs/upload; use POST",
                "eggs/upload is the upload route"
            )
            let get = try await c.call(.get, "/iceshelves/api/eggs/upload", key: h.viewer)
            #expect(get.status == .methodNotAllowed, "not an egg named upload: \(get.text)")
        }
    }

    @Test func aHostOutsideTheAllowedHostsIsForbidden() async throws {
        let h = try await Harness(allowedHosts: "loopback")
        try await h.run { c in
            let hook = try await c.call(.post, "/iceshelves/api/webhooks", key: h.admin, json: #"{"url":"http://example.invalid/x"}"#)
            #expect(hook.status == .forbidden, "\(hook.text)")
            #expect(try await c.call(.post, "/iceshelves/api/webhooks", key: h.admin, json: #"{"url":"http://127.0.0.1:9/x"}"#).status == .created)
        }
    }

    @Test func theServicesEndpointSaysWhoAnswered() async throws {
        let h = try await Harness()
        try await h.run { c in
            let r = try await c.call(.get, "/iceshelves/api/services", key: h.viewer)
            #expect(r.status == .ok)
            let data = try #require(r.json["data"] as? [String: Any])
            #expect(data["healthy"] as? Bool == false)
            let services = (data["services"] as? [[String: Any]]) ?? []
            #expect(services.count == ServicesHealth.busServices.count)
            #expect(services.first { $0["service"] as? String == "kvm-deployer" }?["up"] as? Bool == false)
            #expect(services.first { $0["service"] as? String == "egg-catalog" }?["up"] as? Bool == true)
            #expect(try await c.call(.get, "/iceshelves/api/services", key: nil).status == .unauthorized)
        }
    }

    @Test func webhooksAreAdminOnlyValidatedAndListed() async throws {
        let h = try await Harness(allowedHosts: "loopback")
        try await h.run { c in
            #expect(
                try await c.call(.post, "/iceshelves/api/webhooks", key: h.operatorKey, json: #"{"url":"http://127.0.0.1:9/x"}"#).status == .forbidden
            )
            #expect(try await c.call(.post, "/iceshelves/api/webhooks", key: h.admin, json: #"{"url":"ftp://127.0.0.1/x"}"#).status == .badRequest)
            #expect(
                try await c.call(.post, "/iceshelves/api/webhooks", key: h.admin, json: #"{"url":"http://127.0.0.1:9/x","events":["nope"]}"#).status
                    == .badRequest
            )
            let hook = try await c.call(
                .post,
                "/iceshelves/api/webhooks",
                key: h.admin,
                json: #"{"url":"http://127.0.0.1:9/x","events":["deployment.completed"]}"#
            )
            #expect(hook.status == .created)
            #expect((hook.json["secret"] as? String)?.count ?? 0 >= 40)
            let id = try #require(hook.json["id"] as? Int)
            let list = try await c.call(.get, "/iceshelves/api/webhooks", key: h.admin)
            #expect(list.json["total"] as? Int == 1)
            #expect(!list.text.contains(hook.json["secret"] as! String), "the secret is shown once")
            await h.gateway.webhooks.notify(.deploymentCompleted, data: ["deployment_id": "d"])
            await h.gateway.webhooks.notify(.deploymentFailed, data: ["deployment_id": "d"])
            let deliveries = try await c.call(.get, "/iceshelves/api/webhooks/\(id)/deliveries", key: h.admin)
            #expect((deliveries.json["deliveries"] as? [Any])?.count == 1, "only the subscribed event is queued")
            #expect(try await c.call(.get, "/iceshelves/api/webhooks/99/deliveries", key: h.admin).status == .notFound)
            #expect(try await c.call(.delete, "/iceshelves/api/webhooks/\(id)", key: h.admin).status == .ok)
            #expect(try await c.call(.delete, "/iceshelves/api/webhooks/\(id)", key: h.admin).status == .notFound)
        }
    }

    @Test func logsCleanupTheDescriptionAndTheAuditLog() async throws {
        let h = try await Harness()
        try await h.run { c in
            _ = try await c.call(.post, "/iceshelves/api/clusters", key: h.admin, json: #"{"name":"local","connection_method":"unix-socket"}"#)
            let r = try await c.call(
                .post,
                "/iceshelves/api/deploy",
                key: h.operatorKey,
                json: #"{"egg_id":1,"cluster_id":1,"instance_name":"web-1"}"#
            )
            let id = try #require(r.json["deployment_id"] as? String)
            #expect(
                try await c.call(.delete, "/iceshelves/api/deployments/\(id)/cleanup", key: h.operatorKey).status == .conflict,
                "not while it runs"
            )
            try await h.gateway.recorder.record(
                id,
                DeploymentEvent(status: .failed, step: .cloudInit, level: .error, message: "cloud-init reported errors")
            )
            let cleanup = try await c.call(.delete, "/iceshelves/api/deployments/\(id)/cleanup", key: h.operatorKey)
            #expect(cleanup.status == .ok)
            #expect(cleanup.json["removed"] as? Bool == true)
            let logs = try await c.call(.get, "/iceshelves/api/deployments/\(id)/logs", key: h.viewer)
            let messages = (logs.json["logs"] as? [[String: Any]])?.compactMap { $0["message"] as? String } ?? []
            #expect(messages.contains("cloud-init reported errors") && messages.contains("web-1 stopped and deleted"))
            #expect(try await c.call(.get, "/iceshelves/api/deployments/\(id)/logs", key: nil).status == .unauthorized)
            let openapi = try await c.call(.get, "/iceshelves/api/openapi.json", key: nil)
            #expect(openapi.status == .ok)
            #expect(openapi.json["openapi"] as? String == "3.1.0")
            let audit = try await c.call(.get, "/iceshelves/api/audit", key: h.admin)
            let actions = (audit.json["entries"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
            #expect(actions.contains("deployment.create") && actions.contains("deployment.cleanup") && actions.contains("cluster.create"))
            #expect(try await c.call(.get, "/iceshelves/api/audit", key: h.operatorKey).status == .forbidden)
        }
    }
}
