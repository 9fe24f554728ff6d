# One row of `bench_services` (tab-separated, for COPY) from a service of GET /api/v1/services ($item)
# and its passport GET /api/v1/services/{key}?lang=kk|ru|en ($kk, $ru, $en): the version in force, its
# channels, its (first) service term, and its first result, refusal ground, ground to refuse acceptance
# and document, cited as the decision types of domain/src/application/decision.rs serialise them.
#
#   jq -rn --argjson item "$item" --slurpfile kk kk.json --slurpfile ru ru.json --slurpfile en en.json -f catalog.jq

def text(f): {kk: ($kk[0] | f), ru: ($ru[0] | f), en: ($en[0] | f)};
def cited(list; i; namefield):
  ($kk[0] | list | .[i]) as $x
  | if $x == null then null
    else {code: $x.code, (namefield): text(list | .[i][namefield]), source: $x.source.citation}
    end;
# How often each service is filed, relative to the others (meals, camps and transport are mass services;
# the accreditation of adoption agencies is rare). Services not named get 20.
def weights: {
  free_school_meals: 300, school_camp_referral: 150, free_school_transport: 120,
  guardianship_certificate: 100, minor_property_certificate: 100, guardianship_establishment: 50,
  child_opinion_decision: 50, foster_family_placement: 40, adoption_candidate_registration: 40,
  deprived_parent_meeting_permission: 30, adoption_agency_accreditation: 2
};

($item.service_terms[0]) as $term
| ($kk[0].refusal_to_accept | map(.shared == "incomplete_document_set") | index(true)) as $intake
| ($kk[0].refusal_grounds[0]) as $g
| [
    $item.key,
    $item.version,
    ($item.channels | join(",")),
    ($term.subtype // ""),
    $term.value,
    $term.unit,
    ($item.automation == "fully_automated"),
    (weights[$item.key] // 20),
    (cited(.results; 0; "name") | tojson),
    ({code: $g.code, number: $g.number, text: text(.refusal_grounds[0].text), source: $g.source.citation} | tojson),
    (if $intake == null then ""
     else ($kk[0].refusal_to_accept[$intake]) as $a
       | {code: $a.code, number: $a.number, text: text(.refusal_to_accept[$intake].text), source: $a.source.citation} | tojson
     end),
    (cited(.documents; 0; "name") | tojson)
  ]
| map(tostring)
| @tsv
