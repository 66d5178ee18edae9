// Package emulator is an in-process fake of the two APIs groupsync writes
// to: the LOX24 SMS gateway and HelloID. Users rehearse migrations on it
// (groupsync emulate, groupsync demo) and the real clients are tested
// against it. One http.Handler serves both: HelloID under /api/v1/, LOX24
// everywhere else, so one base URL serves as --lox24-url and --helloid-url.
//
// It follows the project's api-reference.md (cited as "§") and, where the
// vendors' documentation is silent, takes the stricter reading, so that a
// client that works against the emulator does not depend on lenient
// behaviour the real APIs may not have.
//
// # Assumptions where the LOX24 docs are silent
//
//   - §3 #1, #2: GET /groups and GET /groups/{id}/phones are paged 30 items
//     at a time by a page query parameter (integer >= 1; 0 or a non-integer
//     is 400). itemsPerPage and every other query parameter are ignored.
//   - §3 #3: with Accept application/json (or no Accept, or */*) a collection
//     is a bare JSON array of the requested page only, with no paging data.
//     application/ld+json (and application/json+ld, as the PHP client sends
//     it) gives the Hydra collection. An Accept header that allows neither is
//     406.
//   - §3 #4: JSON-LD values follow API Platform: @context "/contexts/Groups"
//     and "/contexts/Phones", @type "Groups" and "Phones" (the docs'
//     "Groups resource created"), @id "/groups/{id}" and "/phones/{id}",
//     collections of @type "hydra:Collection" with a "hydra:view" of @type
//     "hydra:PartialCollectionView" ("/groups?page=N"); hydra:previous only
//     after page 1, hydra:next only when another page exists. Collection
//     members carry @id and @type but no @context. No hydra:search is sent
//     (no filters are documented).
//   - §3 #5: POST answers 201, PUT 200, DELETE 204 with no body, GET 200.
//     POST also sends a Location header with the new item's IRI.
//   - §3 #6: failed constraints are 422 with an API Platform
//     ConstraintViolationList (violations of propertyPath and message, and
//     hydra:description "path: message" lines). Lengths count characters,
//     not bytes. A missing, null or empty name or phone is "This value
//     should not be blank." Malformed JSON, a body that is not an object,
//     a duplicate key, a value of the wrong JSON type and an unknown key are
//     400 with a Hydra error. Bodies over 64 MiB are 413. POST and PUT need
//     Content-Type application/json or application/ld+json (else 415).
//     Errors are always Hydra JSON-LD (application/ld+json), whatever the
//     Accept header.
//   - §3 #7: phones on POST or PUT /groups may be an array of phones or an
//     object whose values are phones (keys ignored, document order kept). On
//     POST they are created; on PUT they replace the group's whole phone list
//     (every entry gets a new id); absent, the list is unchanged. null is 400.
//   - §3 #8: PUT /groups/{id} and PUT /phones/{id} are full replacements: a
//     nullable field left out becomes null. The phone's subscription fields
//     (subscribed_at, unsubscribed_at, unsubscribe_reason) are read-only.
//   - §3 #9: id, count_items and deleted_at (and the JSON-LD keys) are
//     accepted on write and ignored. deleted_at is null unless set through
//     the state; groups scheduled for deletion are listed like any other.
//   - §3 #10, #11: group names need not be unique, and one number may appear
//     in a group several times; every entry has its own id. Numbers are
//     stored as sent.
//   - §3 #12: POST /groups/{id}/phones/batch takes a non-empty JSON array of
//     any length (an empty array or a non-array is 400) and answers 201 with
//     a Hydra collection whose members are {status, body}: 201 and the phone,
//     422 and a violation list, or 400 and a Hydra error, item by item.
//   - §3 #13: there is no rate limit except the documented lockout: a
//     client IP that sends more than 3 requests with bad credentials within
//     a minute gets 429 on every request, good credentials included, for 10
//     minutes from the request that crossed the limit (that request itself is
//     still 401). The 429 carries a Hydra error and, as an extension clients
//     must not rely on, a Retry-After.
//   - §3 #14: bad or missing credentials are 401; the emulator never answers
//     403.
//   - §3 #15: every LOX24 response carries a fresh 32-character alphanumeric
//     X-LOX24-REQUEST-ID, errors and injected faults included.
//   - §3 #16: phone ids are numeric strings in responses ("500000"); paths
//     take decimal integers. A path id that is not a positive decimal
//     integer is 404.
//   - New group ids start at 1000 and new phone ids at 500000, both
//     increasing, so that a client that mixes a group id up with a phone id
//     finds nothing instead of the wrong thing.
//   - GET /phones/{id} is not documented: it answers 405 (Allow: PUT,
//     DELETE). A path that matches no route is 404, a known path with another
//     method is 405; both after the credentials are checked, as the API's
//     firewall comes first.
//
// # Assumptions where the HelloID docs are silent
//
//   - §3 HelloID #1: no rate limit unless Options.Throttle is set (an
//     extension, not the vendor's behaviour).
//   - §3 HelloID #2, #3: GET /api/v1/groups is a bare JSON array in creation
//     order, paged by skip (>= 0) and take (>= 1); without take it returns
//     every group after skip. Other values are 400. Query names match
//     ignoring case.
//   - §3 HelloID #4: a group path segment is tried as a GUID first (any
//     letter case, optionally in braces), then as a name, ignoring case.
//     Names are URL-decoded, so %2F addresses a name with a slash.
//   - §3 HelloID #5: names are unique ignoring case; creating or renaming
//     onto a name in use is 400 {"message": ...}. Renaming a group to another
//     spelling of its own name is allowed. A name must not be blank.
//   - §3 HelloID #6: every error is {"message": "..."}; a missing group is
//     404 "Group not found", a user that cannot be resolved 404 "User not
//     found".
//   - §3 HelloID #7: DELETE of an unknown group is 404.
//   - §3 HelloID #8: PUT changes only the keys present; ManagedByUserGuid
//     null clears the manager; null (or a string) for a boolean is 400; {} is
//     200 with no change. PUT takes no membership lists (400).
//   - §3 HelloID #9: request keys match ignoring case (two keys that differ
//     only in case are 400); responses are camelCase: groupGuid, name,
//     isEnabled, isDefault, isQrEnabled, managedByUserGuid, users. GUIDs are
//     stored and returned in lowercase, so clients must compare GUIDs
//     ignoring case.
//   - §3 HelloID #10: POST /groups/{g}/users {"userGUID"} and POST
//     /users/{u}/groups {"groupGUID"} link (200 with no body, also when
//     already linked); DELETE /groups/{g}/users/{u} and DELETE
//     /users/{u}/groups/{g} unlink (200, or 400 when not a member). The
//     emulator has no user directory: any GUID is a user, a user name is 404
//     "User not found". Applications, member groups, self-service products
//     and categories are not emulated (404).
//   - §3 HelloID #11: POST and PUT answer 200 with the whole group; DELETE
//     answers 200 with an empty body.
//   - §3 HelloID #12: IsDefault is a plain flag with no further effect.
//   - POST /api/v1/groups: name is required; booleans default to false and
//     the manager to null. userGuids become members; userNames,
//     applicationNames and applicationGUIDs are type-checked and ignored.
//     Any other key is 400.
//   - POST /api/v1/groups/batch: every item is checked first; one bad item or
//     a name used twice fails the batch with 400 and creates nothing; success
//     is 200 with the created groups.
//   - POST and PUT need Content-Type application/json (else 415); DELETE
//     does not.
//
// # Faults and observation
//
// Options add faults, applied in this order before anything else happens:
// Latency (cut short if the client goes away), Redirect (307 to
// Redirect + path), FailRate (random 503) and Throttle (per-system token
// bucket, with a burst of ThrottleBurst, by default a fifth of a second's
// worth, at least 1; beyond it 429 with Retry-After: the time until a token
// is free, in whole seconds rounded up, at least 1; a throttled request uses
// no token). LoseRate, unlike those,
// acts after the request: the write is applied and its answer replaced by
// a 502, as when a proxy loses it, so that clients must find out whether a
// create happened before sending it again. DropRate does the opposite: the
// write is answered as a success and not applied (its change is undone at
// once), so that only a re-read can tell. Stats counts every API request,
// faulted ones included, and the connections clients opened.
//
// # Quirks
//
// Options.Quirks (groupsync emulate --quirks LIST; ParseQuirks reads the
// list) make the emulator answer as a real server plausibly might where the
// docs are silent, so that every variant a client must read is tested:
//
//   - bare-hydra: LOX24 collections use member, totalItems, view, first,
//     last, previous and next, without the hydra: prefix (API Platform 3).
//   - int-next: LOX24 view links are page numbers (2), not IRIs.
//   - phones-next-path: links of member listings point, as absolute URLs on
//     the same host, to GET /phones?group={id}&page=N, which serves the same
//     pages (and exists only under this quirk).
//   - short-pages: LOX24 pages hold 30, 25, 15, 30, 25, 15, ... items.
//   - no-view: a LOX24 collection of one page has no view.
//   - take-cap=N: HelloID lists return at most N items per page, whatever
//     take asks for (and N without take).
//   - data-wrapper, pagedata-wrapper: HelloID lists are {"data": [...]} or
//     {"pageData": [...]} (not both).
//   - drift-once: the first listing of each collection (LOX24 groups, each
//     group's members, HelloID groups; a listing starts at page 1 or skip 0)
//     serves, on its last page, an item already listed in place of the last
//     one: one item twice, another never, with totalItems still right, as a
//     list that moves while it is read. Later listings are right.
//   - drift-always: every listing does that.
//
// The /_emulator/ routes need no credentials and are not counted: GET and
// POST /_emulator/state (the State as JSON), GET /_emulator/stats, POST
// /_emulator/reset-stats.
package emulator
