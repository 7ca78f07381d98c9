{#- The apps' tables: pandas' own Styler table, with the column headings marked as such
    (scope="col", for screen readers; ``wb-num`` on those of ``numeric`` columns) and an
    optional class on every body row (``row_class``). -#}
{% extends "html_table.tpl" %}
{% block head_tr %}
    <tr>
{% for c in r %}
{% if c.is_visible != False %}
      <{{c.type}} {%- if c.type == "th" %} scope="col"{% endif %} {%- if c.id is defined %} id="T_{{uuid}}_{{c.id}}" {%- endif %} class="{{c.class}}{% if c.type == "th" and c.value in numeric %} wb-num{% endif %}" {{c.attributes}}>{{c.display_value}}</{{c.type}}>
{% endif %}
{% endfor %}
    </tr>
{% endblock head_tr %}
{% block tr %}
    <tr{% if row_class %} class="{{row_class}}"{% endif %}>
{% for c in r %}{% if c.is_visible != False %}
      <{{c.type}} {%- if c.type == "th" %} scope="row"{% endif %} {%- if c.id is defined %} id="T_{{uuid}}_{{c.id}}" {%- endif %} class="{{c.class}}" {{c.attributes}}>{{c.display_value}}</{{c.type}}>
{% endif %}{% endfor %}
    </tr>
{% endblock tr %}
