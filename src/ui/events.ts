/**
 * Events the UI elements send up. Each is a typed Event subclass registered in HTMLElementEventMap, so
 * `addEventListener('send-message', e => e.text)` is typed. They bubble and cross shadow roots (composed).
 */

const init: EventInit = { bubbles: true, composed: true };

/** The composer asks to send a message. The handler sets `accepted` (true once the turn is saved). */
export class SendMessageEvent extends Event {
  static readonly eventName = 'send-message';
  /** Set by the handler: resolves true when the message was saved, false when it was refused. */
  accepted: Promise<boolean> | null = null;
  constructor(readonly text: string, readonly image: File | Blob | null) {
    super(SendMessageEvent.eventName, init);
  }
}

export class StopGenerationEvent extends Event {
  static readonly eventName = 'stop-generation';
  constructor() {
    super(StopGenerationEvent.eventName, init);
  }
}

export class RegenerateEvent extends Event {
  static readonly eventName = 'regenerate';
  constructor() {
    super(RegenerateEvent.eventName, init);
  }
}

/** Continue on the last answer (cut at the token limit, or stopped): it goes on where it ended. */
export class ContinueAnswerEvent extends Event {
  static readonly eventName = 'continue-answer';
  constructor() {
    super(ContinueAnswerEvent.eventName, init);
  }
}

/** An edit of one of the user's messages was saved: the conversation branches from there. */
export class EditMessageEvent extends Event {
  static readonly eventName = 'edit-message';
  constructor(readonly messageId: string, readonly text: string) {
    super(EditMessageEvent.eventName, init);
  }
}

/** Show another version of a turn (‹ 1/2 ›): an earlier answer, or the conversation before an edit. */
export class VersionSelectEvent extends Event {
  static readonly eventName = 'version-select';
  constructor(readonly messageId: string, readonly index: number) {
    super(VersionSelectEvent.eventName, init);
  }
}

/** “Ask about this again”: an older picture becomes the image in the model's context. */
export class AskAgainEvent extends Event {
  static readonly eventName = 'ask-again';
  constructor(readonly imageHash: string) {
    super(AskAgainEvent.eventName, init);
  }
}

/** Undo was pressed on a toast. */
export class UndoEvent extends Event {
  static readonly eventName = 'undo';
  constructor() {
    super(UndoEvent.eventName, init);
  }
}

/** A session was chosen (null = a new, not yet saved chat). */
export class SessionSelectEvent extends Event {
  static readonly eventName = 'session-select';
  constructor(readonly sessionId: string | null) {
    super(SessionSelectEvent.eventName, init);
  }
}

export class SessionRenameEvent extends Event {
  static readonly eventName = 'session-rename';
  constructor(readonly sessionId: string, readonly title: string) {
    super(SessionRenameEvent.eventName, init);
  }
}

export class SessionDeleteEvent extends Event {
  static readonly eventName = 'session-delete';
  constructor(readonly sessionId: string) {
    super(SessionDeleteEvent.eventName, init);
  }
}

/** An image chip's remove button. */
export class ImageRemoveEvent extends Event {
  static readonly eventName = 'image-remove';
  constructor() {
    super(ImageRemoveEvent.eventName, init);
  }
}

export class DismissEvent extends Event {
  static readonly eventName = 'dismiss';
  constructor() {
    super(DismissEvent.eventName, init);
  }
}

export type SettingsTab = 'general' | 'storage';

/** A part of Settings → Storage & models to bring into view: loading a model from a folder, the model host. */
export type SettingsFocus = 'folder' | 'host';

/** Something asks for the settings panel (or to close it), optionally on a given tab and part of it. */
export class SettingsToggleEvent extends Event {
  static readonly eventName = 'settings-toggle';
  constructor(readonly open: boolean, readonly tab?: SettingsTab, readonly focus?: SettingsFocus) {
    super(SettingsToggleEvent.eventName, init);
  }
}

/** The user asked to download / load the local model now. */
export class LoadModelEvent extends Event {
  static readonly eventName = 'load-model';
  constructor() {
    super(LoadModelEvent.eventName, init);
  }
}

/** Something changed what is stored on this device (a model deleted or imported, chats imported). */
export class StorageChangeEvent extends Event {
  static readonly eventName = 'storage-change';
  constructor() {
    super(StorageChangeEvent.eventName, init);
  }
}

declare global {
  interface HTMLElementEventMap {
    'send-message': SendMessageEvent;
    'stop-generation': StopGenerationEvent;
    regenerate: RegenerateEvent;
    'continue-answer': ContinueAnswerEvent;
    'edit-message': EditMessageEvent;
    'version-select': VersionSelectEvent;
    'ask-again': AskAgainEvent;
    undo: UndoEvent;
    'session-select': SessionSelectEvent;
    'session-rename': SessionRenameEvent;
    'session-delete': SessionDeleteEvent;
    'image-remove': ImageRemoveEvent;
    dismiss: DismissEvent;
    'settings-toggle': SettingsToggleEvent;
    'load-model': LoadModelEvent;
    'storage-change': StorageChangeEvent;
  }
}
