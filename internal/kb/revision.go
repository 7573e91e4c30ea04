package kb

// Operation is what a revision of the log records; its values are the
// names of the API's RevisionOperation enum.
type Operation string

// The operations of the revision log.
const (
	OpCreate          Operation = "CREATE"
	OpUpdate          Operation = "UPDATE"
	OpPublish         Operation = "PUBLISH"   // DRAFT → PUBLISHED
	OpUnpublish       Operation = "UNPUBLISH" // PUBLISHED → DRAFT
	OpArchive         Operation = "ARCHIVE"   // DRAFT or PUBLISHED → ARCHIVED
	OpRestore         Operation = "RESTORE"   // ARCHIVED → DRAFT
	OpDelete          Operation = "DELETE"
	OpRevert          Operation = "REVERT"
	OpErase           Operation = "ERASE"
	OpIndicatorCreate Operation = "INDICATOR_CREATE" // on the cooperative's history
	OpIndicatorUpdate Operation = "INDICATOR_UPDATE"
	// The changes of the topic vocabulary, on the topic's history
	// (migration 00026); they cannot be reverted.
	OpTopicCreate      Operation = "TOPIC_CREATE"
	OpTopicLabelSet    Operation = "TOPIC_LABEL_SET"
	OpTopicLabelRemove Operation = "TOPIC_LABEL_REMOVE"
	OpTopicRename      Operation = "TOPIC_RENAME"
	OpTopicMerge       Operation = "TOPIC_MERGE"
)

// Operations lists every operation, in the order of the API's enum.
var Operations = []Operation{
	OpCreate, OpUpdate, OpPublish, OpUnpublish, OpArchive, OpRestore, OpDelete, OpRevert, OpErase,
	OpIndicatorCreate, OpIndicatorUpdate,
	OpTopicCreate, OpTopicLabelSet, OpTopicLabelRemove, OpTopicRename, OpTopicMerge,
}

// IsTopic reports whether o is a change of the topic vocabulary.
func (o Operation) IsTopic() bool {
	switch o {
	case OpTopicCreate, OpTopicLabelSet, OpTopicLabelRemove, OpTopicRename, OpTopicMerge:
		return true
	}
	return false
}

// Valid reports whether o is one of Operations.
func (o Operation) Valid() bool {
	for _, x := range Operations {
		if o == x {
			return true
		}
	}
	return false
}

// RevertStep is what undoing a revision does to its subject.
type RevertStep int

// The ways to undo a revision.
const (
	// RevertNone: the revision cannot be undone (indicator changes,
	// erasures, and revisions whose states an erasure removed).
	RevertNone RevertStep = iota
	// RevertDelete: the revision made its subject; undoing it deletes it.
	RevertDelete
	// RevertRemake: the revision deleted its subject; undoing it makes it
	// again under its old ID.
	RevertRemake
	// RevertRestore: the revision changed its subject; undoing it writes
	// the state before it back.
	RevertRestore
)

// HowToRevert says how a revision of operation op, with or without a
// state before and after it, is undone.
func HowToRevert(op Operation, hasBefore, hasAfter bool) RevertStep {
	switch {
	case op == OpIndicatorCreate || op == OpIndicatorUpdate || op == OpErase || op.IsTopic() || !hasBefore && !hasAfter:
		return RevertNone
	case !hasBefore:
		return RevertDelete
	case !hasAfter:
		return RevertRemake
	default:
		return RevertRestore
	}
}

// RevertRole returns the role that undoing a revision takes: deleting an
// entry takes ADMIN (as deleteEntity does), so undoing the creation of an
// entry (entity true) does too; every other revert is an editor's work.
func RevertRole(step RevertStep, entity bool) Role {
	if step == RevertDelete && entity {
		return RoleAdmin
	}
	return RoleEditor
}
