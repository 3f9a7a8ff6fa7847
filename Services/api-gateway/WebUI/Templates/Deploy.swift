extension WebTemplates {
    static let deploy = #"""
        {{<layout}}{{$content}}
        <h1>Deploy</h1>
        {{#preview}}
        <h2 id="preview">Dry run: nothing was created</h2>
        <p>Check the result below, change the form if needed, then deploy.</p>
        <h3>Rendered user-data</h3>
        <pre tabindex="0" aria-label="Rendered user-data"><code>{{{userData}}}</code></pre>
        <h3>Request to the hypervisor</h3>
        <pre tabindex="0" aria-label="Request to the hypervisor"><code>{{targetRequest}}</code></pre>
        {{/preview}}
        <form method="get" action="/iceshelves/deploy" class="filters">
        <div><label for="d-egg-pick">Egg</label>
        <select id="d-egg-pick" name="egg" data-autosubmit>{{#eggs}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/eggs}}</select></div>
        <div><button type="submit" class="secondary">Load its variables</button></div>
        </form>
        {{#egg}}
        <form method="post" action="/iceshelves/deploy">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <input type="hidden" name="egg_id" value="{{egg}}">
        <label for="d-cluster">Cluster</label>
        <select id="d-cluster" name="cluster_id" required>{{#clusters}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}} ({{status}})</option>{{/clusters}}</select>
        <label for="d-name">Instance name</label>
        <input id="d-name" name="instance_name" required value="{{form.instance_name}}" aria-describedby="d-name-hint">
        <p class="hint" id="d-name-hint">For a batch, put {n} in the name and set a count.</p>
        <label for="d-count">Count</label>
        <input id="d-count" name="count" type="number" min="1" max="50" value="{{form.count}}" placeholder="1">
        <label for="d-member">Target member (optional)</label>
        <input id="d-member" name="target_member" value="{{form.target_member}}">
        {{> variableFields}}
        <details><summary>More options</summary>
        <label for="d-image">Image alias instead of the egg's</label><input id="d-image" name="image" value="{{form.image}}">
        <label for="d-cc">Extra cloud-config, merged over the egg's</label><textarea id="d-cc" name="cloud_config">{{form.cloud_config}}</textarea>
        </details>
        <button type="submit" name="action" value="dry_run" class="secondary" id="dry-run">Preview (dry run)</button>
        <button type="submit" name="action" value="deploy" id="deploy-submit">Deploy</button>
        </form>
        {{/egg}}
        {{/content}}{{/layout}}
        """#
}
