package cache

import "container/list"

// lru is a map bounded by a number of entries and a total cost (bytes),
// evicting the least recently used entry first. It is not safe for
// concurrent use.
type lru[V any] struct {
	maxLen  int
	maxCost int64 // 0: unbounded
	cost    int64
	order   *list.List // front: most recently used
	items   map[string]*list.Element
}

type lruEntry[V any] struct {
	key  string
	val  V
	cost int64
}

func newLRU[V any](maxLen int, maxCost int64) *lru[V] {
	return &lru[V]{maxLen: maxLen, maxCost: maxCost, order: list.New(), items: make(map[string]*list.Element)}
}

func (l *lru[V]) get(key string) (V, bool) {
	el, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(el)
	return el.Value.(*lruEntry[V]).val, true
}

// peek is get without marking the entry used.
func (l *lru[V]) peek(key string) (V, bool) {
	el, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	return el.Value.(*lruEntry[V]).val, true
}

func (l *lru[V]) add(key string, val V, cost int64) {
	if el, ok := l.items[key]; ok {
		e := el.Value.(*lruEntry[V])
		l.cost += cost - e.cost
		e.val, e.cost = val, cost
		l.order.MoveToFront(el)
	} else {
		l.items[key] = l.order.PushFront(&lruEntry[V]{key: key, val: val, cost: cost})
		l.cost += cost
	}
	for l.order.Len() > l.maxLen || (l.maxCost > 0 && l.cost > l.maxCost && l.order.Len() > 0) {
		l.removeElement(l.order.Back())
	}
}

func (l *lru[V]) remove(key string) {
	if el, ok := l.items[key]; ok {
		l.removeElement(el)
	}
}

func (l *lru[V]) removeElement(el *list.Element) {
	e := el.Value.(*lruEntry[V])
	l.order.Remove(el)
	delete(l.items, e.key)
	l.cost -= e.cost
}

func (l *lru[V]) len() int { return l.order.Len() }
