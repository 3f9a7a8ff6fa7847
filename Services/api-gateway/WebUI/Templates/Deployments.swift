extension WebTemplates {
    static let deploymentTable = #"""
        {{#hasDeployments}}<div class="scroll"><table>
        <thead><tr><th scope="col">Instance</th><th scope="col">Egg</th><th scope="col">Cluster</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
        <tbody>{{#deployments}}<tr data-deployment="{{id}}"><td><a href="/iceshelves/deployments/{{id}}">{{instance_name}}</a></td><td>{{egg_name}}</td><td>{{cluster_id}}</td><td class="status s-{{status}}">{{status}}</td><td>{{created_at}}</td></tr>{{/deployments}}</tbody>
        </table></div>{{/hasDeployments}}
        {{^hasDeployments}}<p>None.</p>{{/hasDeployments}}
        """#

    static let deployments = #"""
        {{<layout}}{{$content}}
        <h1>Deployments</h1>
        <form method="get" action="/iceshelves/deployments" class="filters">
        <div><label for="f-status">Status</label><select id="f-status" name="status"><option value="">any</option>{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statuses}}</select></div>
        <div><label for="f-cluster">Cluster</label><select id="f-cluster" name="cluster_id"><option value="">any</option>{{#clusters}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/clusters}}</select></div>
        <div><label for="f-egg">Egg</label><input id="f-egg" name="egg_id" value="{{egg}}"></div>
        <div><button type="submit">Filter</button></div>
        </form>
        {{> deploymentTable}}
        {{> pager}}
        {{/content}}{{/layout}}
        """#

    static let deployment = #"""
        {{<layout}}{{$content}}
        <h1>Deployment of {{d.instance_name}}</h1>
        <section id="dep-live" data-events="/iceshelves/deployments/{{d.id}}/events" data-json="/iceshelves/deployments/{{d.id}}.json" aria-labelledby="progress-h">
        <h2 id="progress-h">Progress</h2>
        <p>Status: <span id="dep-status" class="status s-{{d.status}}" role="status" aria-live="polite">{{d.status}}</span></p>
        <label for="dep-progress">Progress <span id="dep-percent">{{percent}}%</span></label>
        <progress id="dep-progress" max="100" value="{{percent}}">{{percent}}%</progress>
        <ol class="steps" aria-label="Steps">{{#steps}}<li data-step="{{name}}"{{#cls}} class="{{cls}}"{{/cls}}>{{name}}</li>{{/steps}}</ol>
        <div>
        {{#canDeploy}}
        <form method="post" action="/iceshelves/deployments/{{d.id}}/cancel" class="inline" data-when="pending rendering queued in_progress"{{^active}} hidden{{/active}}><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="danger">Cancel</button></form>
        <form method="post" action="/iceshelves/deployments/{{d.id}}/retry" class="inline" data-when="failed cancelled timeout"{{^retryable}} hidden{{/retryable}}><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Retry</button></form>
        <form method="post" action="/iceshelves/deployments/{{d.id}}/cleanup" class="inline" data-when="completed failed cancelled timeout" data-confirm="Stop and delete instance {{d.instance_name}}?"{{^finished}} hidden{{/finished}}><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="secondary">Clean up the instance</button></form>
        {{/canDeploy}}
        </div>
        </section>
        <h2>Details</h2>
        <dl>
        <dt>Id</dt><dd>{{d.id}}</dd>
        <dt>Egg</dt><dd><a href="/iceshelves/eggs/{{d.egg_name}}">{{d.egg_name}}</a> {{d.egg_version}}</dd>
        <dt>Cluster</dt><dd><a href="/iceshelves/clusters/{{d.cluster_id}}">{{clusterName}}</a></dd>
        <dt>Target member</dt><dd>{{d.target_member}}</dd>
        <dt>Created</dt><dd>{{d.created_at}}</dd>
        {{#d.retry_of}}<dt>Retry of</dt><dd><a href="/iceshelves/deployments/{{d.retry_of}}">{{d.retry_of}}</a></dd>{{/d.retry_of}}
        {{#d.error}}<dt>Error</dt><dd>{{d.error}}</dd>{{/d.error}}
        </dl>
        <h2>Instance</h2>
        <dl id="dep-info">{{#info}}<dt>{{key}}</dt><dd>{{value}}</dd>{{/info}}</dl>
        <h2>Log</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Level</th><th scope="col">Step</th><th scope="col">Message</th></tr></thead>
        <tbody id="dep-log">{{#logs}}<tr data-seq="{{seq}}"><td>{{seq}}</td><td>{{timestamp}}</td><td>{{level}}</td><td>{{step}}</td><td>{{message}}</td></tr>{{/logs}}</tbody>
        </table></div>
        {{/content}}{{/layout}}
        """#
}
